"""An approved authorization whose period has ended reaches subscribers as
`authorization.expired`, once, raised by the SLA sweeper's pass; nothing else does."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from canonical.events import case_created, transition_event
from canonical.status import CaseStatus
from gateway.events.expiry import expire_authorizations
from gateway.intake import event_record
from gateway.orchestration.sweeper import SlaSweeper
from gateway.store import cases
from gateway.store.engine import Store
from gateway.store.ids import new_id
from gateway.store.records import NewCase
from gateway.store.subscriptions import list_deliveries
from tests.gateway.events.conftest import add_webhook_subscription

OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SWEPT = datetime(2026, 4, 2, 6, 0, tzinfo=UTC)
S = CaseStatus


async def _decided(
    store: Store, outcome: CaseStatus, end: date | None, case_type: str = "prior_authorization"
) -> str:
    decision: dict[str, Any] = {"outcome": outcome.value, "auth_number": f"AUTH-{new_id()[-6:]}"}
    if end is not None:
        decision["authorized_period"] = {"start": "2026-01-06", "end": end.isoformat()}
    case = NewCase(
        id=new_id(),
        tenant="default",
        type=case_type,
        status=S.draft.value,
        payer_id="ACMEHP",
        urgency="standard",
        payload={"urgency": "standard"},
        created_at=OPENED,
    )
    async with store.begin() as conn:
        await cases.add_cases(conn, [case])
        await cases.add_first_events(conn, [event_record(case_created(case.id, S.draft, OPENED))])
    for current, target in ((S.draft, S.submitted), (S.submitted, outcome)):
        async with store.begin() as conn:
            row = await cases.get_case(conn, case.id, None)
            assert row is not None
            facts = decision if target is outcome else {"route": "payer"}
            assert await cases.update_case(
                conn,
                case.id,
                row.version,
                status=target.value,
                decision=decision if target is outcome else None,
                decided=target is outcome,
            )
            event = transition_event(case.id, current, target, OPENED, facts)
            await cases.append_events(conn, [event_record(event)])
    return case.id


async def test_only_an_ended_approval_expires_and_only_once(store: Store) -> None:
    subscription_id = await add_webhook_subscription(store, ["authorization.expired"], OPENED)
    ended = await _decided(store, S.approved, date(2026, 3, 31))
    partly_ended = await _decided(store, S.partially_approved, date(2026, 2, 28))
    await _decided(store, S.approved, date(2026, 4, 2))  # its last day is today: still valid
    await _decided(store, S.approved, None)  # open-ended
    await _decided(store, S.denied, date(2026, 1, 31))  # nothing was authorized
    await _decided(store, S.approved, date(2026, 1, 31), case_type="eligibility_check")

    report = await SlaSweeper(store).sweep(SWEPT)
    assert report.expired == 2
    assert await expire_authorizations(store, SWEPT) == 0  # told once, not on every pass

    async with store.connect() as conn:
        owed = await list_deliveries(conn, subscription_id, status=None, after_id=None, limit=9)
        ended_row = await cases.get_case(conn, ended, None)
    assert sorted(d.case_id for d in owed) == sorted([ended, partly_ended])
    published = next(d.payload for d in owed if d.case_id == ended)
    assert ended_row is not None
    assert published["type"] == "authorization.expired"
    assert published["case"]["sequence"] == 4
    assert published["data"] == {
        "auth_number": ended_row.decision["auth_number"] if ended_row.decision else None,
        "expired_on": "2026-03-31",
    }
    assert ended_row.status == S.approved.value  # a fact about the case, not a new status
