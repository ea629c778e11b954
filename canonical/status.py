"""The case status machine.

Every case type shares it, so that work queues, SLA clocks and subscribers read one vocabulary.
`draft` means accepted by casegate and not yet at the payer; the first send moves it to
`submitted`.
"""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    pended = "pended"
    more_info_requested = "more_info_requested"
    approved = "approved"
    partially_approved = "partially_approved"
    denied = "denied"
    appealed = "appealed"
    cancelled = "cancelled"
    closed = "closed"


S = CaseStatus
_DECIDED = (S.approved, S.partially_approved, S.denied)

ALLOWED_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.draft: frozenset({S.submitted, S.more_info_requested, S.cancelled}),
    S.submitted: frozenset({S.pended, S.more_info_requested, S.cancelled, *_DECIDED}),
    S.pended: frozenset({S.more_info_requested, S.cancelled, *_DECIDED}),
    S.more_info_requested: frozenset({S.submitted, S.cancelled, S.denied}),
    S.approved: frozenset({S.cancelled, S.closed}),
    S.partially_approved: frozenset({S.appealed, S.cancelled, S.closed}),
    S.denied: frozenset({S.appealed, S.closed}),
    S.appealed: frozenset({S.pended, S.cancelled, *_DECIDED}),
    S.cancelled: frozenset({S.closed}),
    S.closed: frozenset(),
}

OPEN_STATUSES = frozenset({S.draft, S.submitted, S.pended, S.more_info_requested, S.appealed})
DECIDED_STATUSES = frozenset(_DECIDED)


class IllegalTransition(ValueError):
    """Raised instead of moving a case where the machine does not allow; the edge answers 409."""

    def __init__(self, current: CaseStatus, target: CaseStatus) -> None:
        super().__init__(f"a case in status '{current}' cannot become '{target}'")
        self.current = current
        self.target = target


def check_transition(current: CaseStatus, target: CaseStatus) -> None:
    if target not in ALLOWED_TRANSITIONS[current]:
        raise IllegalTransition(current, target)
