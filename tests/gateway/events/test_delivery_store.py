"""The per-subscriber outbox on both stores: written with its event or not at all, claimed one
event per case at a time, held behind a dead delivery until replayed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from canonical.events import case_created, transition_event
from canonical.status import CaseStatus
from gateway.intake import event_record
from gateway.store import cases
from gateway.store.engine import Store
from gateway.store.ids import new_id
from gateway.store.records import NewCase
from gateway.store.subscriptions import (
    DeliveryRow,
    DeliverySettlement,
    has_due,
    list_deliveries,
    replay_dead,
    settle_deliveries,
)
from gateway.store.subscriptions import claim_deliveries as claim_in
from tests.gateway.events.conftest import add_webhook_subscription

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SUBSCRIBED = ["case.opened", "case.submitted", "authorization.approved"]
S = CaseStatus


class _Abort(Exception):
    pass


async def claim_deliveries(
    store: Store, subscription_id: str, owner: str, limit: int, lease: float
) -> list[DeliveryRow]:
    async with store.begin() as conn:
        return await claim_in(conn, subscription_id, owner, limit, lease)


async def _subscribe(store: Store, tenant: str = "default") -> str:
    return await add_webhook_subscription(store, SUBSCRIBED, AT, tenant)


def _case(tenant: str = "default") -> NewCase:
    return NewCase(
        id=new_id(),
        tenant=tenant,
        type="prior_authorization",
        status="draft",
        payer_id="ACMEHP",
        urgency="standard",
        payload={"urgency": "standard"},
        created_at=AT,
    )


async def _open_and_decide(store: Store, case: NewCase) -> None:
    """Three events in three transactions, as intake, the send and the answer write them."""
    async with store.begin() as conn:
        await cases.add_cases(conn, [case])
        await cases.add_first_events(conn, [event_record(case_created(case.id, S.draft, AT))])
    for current, target in ((S.draft, S.submitted), (S.submitted, S.approved)):
        async with store.begin() as conn:
            event = transition_event(case.id, current, target, AT, {"outcome": target.value})
            await cases.append_events(conn, [event_record(event)])


async def _settle(store: Store, delivery_id: int, owner: str, status: str) -> None:
    async with store.begin() as conn:
        settled = await settle_deliveries(
            conn,
            [DeliverySettlement(delivery_id, owner, status, None, datetime.now(UTC))],  # type: ignore[arg-type]
        )
    assert settled == 1


async def test_a_delivery_is_written_with_its_event_or_not_at_all(store: Store) -> None:
    subscription_id = await _subscribe(store)
    case = _case()
    with pytest.raises(_Abort):
        async with store.begin() as conn:
            await cases.add_cases(conn, [case])
            await cases.add_first_events(conn, [event_record(case_created(case.id, S.draft, AT))])
            raise _Abort
    async with store.connect() as conn:
        assert (
            await list_deliveries(conn, subscription_id, status=None, after_id=None, limit=9) == []
        )
    await _open_and_decide(store, case)
    other_tenant = await _subscribe(store, tenant="other")
    async with store.connect() as conn:
        owed = await list_deliveries(conn, subscription_id, status=None, after_id=None, limit=9)
        assert await list_deliveries(conn, other_tenant, status=None, after_id=None, limit=9) == []
    assert [(d.seq, d.event_type) for d in owed] == [
        (1, "case.opened"),
        (2, "case.submitted"),
        (3, "authorization.approved"),
    ]
    assert owed[2].payload["data"]["outcome"] == "approved"


async def test_each_case_is_claimed_one_event_at_a_time(store: Store) -> None:
    first = await _subscribe(store)
    case_a, case_b = _case(), _case()
    await _open_and_decide(store, case_a)
    await _open_and_decide(store, case_b)
    second = await _subscribe(store)  # subscribed after: owed nothing of what came before
    owner = "worker-1"

    claimed = await claim_deliveries(store, first, owner, 10, 30)
    assert sorted((d.case_id, d.seq) for d in claimed) == sorted([(case_a.id, 1), (case_b.id, 1)])
    assert await claim_deliveries(store, first, owner, 10, 30) == []  # both cases wait
    assert await claim_deliveries(store, second, owner, 10, 30) == []
    a1 = next(d for d in claimed if d.case_id == case_a.id)
    b1 = next(d for d in claimed if d.case_id == case_b.id)

    await _settle(store, a1.id, owner, "delivered")
    (a2,) = await claim_deliveries(store, first, owner, 10, 30)
    assert (a2.case_id, a2.seq) == (case_a.id, 2)
    await _settle(store, a2.id, owner, "dead")
    assert await claim_deliveries(store, first, owner, 10, 30) == []  # a3 is held behind a2
    async with store.connect() as conn:  # so the lane does not even try (b1 is still leased)
        assert not await has_due(conn, first, datetime.now(UTC))

    await _settle(store, b1.id, owner, "delivered")  # case b is not held by case a
    (b2,) = await claim_deliveries(store, first, owner, 10, 30)
    assert (b2.case_id, b2.seq) == (case_b.id, 2)

    async with store.begin() as conn:
        assert await replay_dead(conn, first) == 1
    (again,) = await claim_deliveries(store, first, owner, 10, 30)
    assert (again.id, again.attempts) == (a2.id, 1)


async def test_only_the_lease_holder_settles(store: Store) -> None:
    subscription_id = await _subscribe(store)
    await _open_and_decide(store, _case())
    (claimed,) = await claim_deliveries(store, subscription_id, "worker-1", 10, 30)
    async with store.begin() as conn:
        late = DeliverySettlement(claimed.id, "worker-2", "delivered", None, datetime.now(UTC))
        assert await settle_deliveries(conn, [late]) == 0
