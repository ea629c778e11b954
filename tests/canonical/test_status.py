from datetime import UTC, datetime

import pytest

from canonical.events import transition_event
from canonical.status import ALLOWED_TRANSITIONS, CaseStatus, IllegalTransition, check_transition

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_every_status_has_a_row() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(CaseStatus)


def test_closed_is_terminal() -> None:
    for target in CaseStatus:
        with pytest.raises(IllegalTransition):
            check_transition(CaseStatus.closed, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (CaseStatus.draft, CaseStatus.approved),
        (CaseStatus.denied, CaseStatus.approved),
        (CaseStatus.cancelled, CaseStatus.submitted),
        (CaseStatus.approved, CaseStatus.denied),
    ],
)
def test_illegal_transitions_are_refused(current: CaseStatus, target: CaseStatus) -> None:
    with pytest.raises(IllegalTransition, match=f"'{current}' cannot become '{target}'"):
        transition_event("c1", current, target, NOW)


def test_a_legal_transition_yields_its_event() -> None:
    event = transition_event("c1", CaseStatus.submitted, CaseStatus.pended, NOW, {"ref": "x"})
    assert event.type == "case.pended"
    assert (event.from_status, event.to_status) == (CaseStatus.submitted, CaseStatus.pended)
    assert event.data == {"ref": "x"}


def test_every_open_case_can_be_cancelled_or_closed_eventually() -> None:
    # From any status there is a path to closed, so no case can get stuck open forever.
    for start in CaseStatus:
        seen, frontier = {start}, [start]
        while frontier:
            for nxt in ALLOWED_TRANSITIONS[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert CaseStatus.closed in seen
