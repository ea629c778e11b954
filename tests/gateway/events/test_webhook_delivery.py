"""Catalog events through the real workers to a real webhook receiver, on both stores: signed,
in order per case, retried, dead-lettered and replayed, one subscriber never holding back
another."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

from canonical.event_catalog import CATALOG_ADAPTER
from tests.gateway.api.support import EXAMPLES
from tests.gateway.events.conftest import EventsGateway
from tests.gateway.events.receiver import Received

APPROVED = ["case.opened", "case.submitted", "authorization.approved"]
PENDED = ["case.opened", "case.submitted", "authorization.pended", "authorization.approved"]


def _by_case(received: list[Received]) -> dict[str, list[dict[str, Any]]]:
    cases: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for call in received:
        event = call.event
        cases[event["case"]["id"]].append(event)
    return cases


async def test_events_arrive_signed_and_in_order_per_case(events_gateway: EventsGateway) -> None:
    gw = events_gateway
    subscription = await gw.subscribe("erp")
    assert subscription["secret"].startswith("whsec_")
    approved = await gw.submit("a1")
    pended = await gw.submit("p1", procedure_code="72148")
    received = await gw.receiver.wait_delivered("erp", len(APPROVED) + len(PENDED))
    await asyncio.sleep(0.3)  # nothing more, nothing twice
    assert len(gw.receiver.calls("erp")) == len(APPROVED) + len(PENDED)
    for call in received:
        assert call.verified_with(subscription["secret"])
        assert call.headers["webhook-id"] == call.event["id"]
        assert call.headers["content-type"] == "application/json"
        CATALOG_ADAPTER.validate_json(call.body)  # the body is a catalog event, as published
    cases = _by_case(received)
    assert [e["type"] for e in cases[approved]] == APPROVED
    assert [e["type"] for e in cases[pended]] == PENDED
    for events in cases.values():
        sequences = [e["case"]["sequence"] for e in events]
        assert sequences == sorted(sequences)
    decision = cases[approved][-1]["data"]
    assert decision["outcome"] == "approved"
    assert decision["auth_number"]
    assert decision["authorized_from"]


async def test_failed_attempts_are_retried_in_order(events_gateway: EventsGateway) -> None:
    gw = events_gateway
    gw.receiver.behave("flaky", fail_first=2)  # the tests' retry policy allows 3 attempts
    subscription = await gw.subscribe("flaky")
    case_id = await gw.submit("r1")
    received = await gw.receiver.wait_delivered("flaky", len(APPROVED))
    assert [call.event["type"] for call in received] == APPROVED
    calls = gw.receiver.calls("flaky")
    assert len(calls) == len(APPROVED) + 2
    # Every retry carries the same id and body, freshly signed.
    assert {c.headers["webhook-id"] for c in calls[:3]} == {f"evt_{case_id}_1"}
    assert len({c.body for c in calls[:3]}) == 1
    assert all(c.verified_with(subscription["secret"]) for c in calls)
    first = (await gw.deliveries(subscription["id"], "delivered"))[0]
    assert first["attempts"] == 3
    assert first["sequence"] == 1


async def test_slow_and_failing_subscribers_do_not_hold_back_a_healthy_one(
    events_gateway: EventsGateway,
) -> None:
    gw = events_gateway
    gw.receiver.behave("slow", delay_seconds=1.0)
    gw.receiver.behave("failing", status=500)
    healthy = await gw.subscribe("healthy")
    slow = await gw.subscribe("slow")
    failing = await gw.subscribe("failing")
    unreachable = await gw.api.post(
        "/v1/subscriptions",
        json={
            "event_types": ["case.opened"],
            "target": {"kind": "webhook", "url": "http://127.0.0.1:9/closed"},
        },
    )
    assert unreachable.status_code == 201
    count = 8
    case_ids = [await gw.submit(f"h{n}") for n in range(count)]
    received = await gw.receiver.wait_delivered("healthy", count * len(APPROVED), timeout=15)
    # The slow one owes 24 deliveries of 1 s each, at most 4 at a time (6 s at best): it is
    # still at it when the healthy one has everything.
    assert len(gw.receiver.delivered("slow")) < count * len(APPROVED)
    cases = _by_case(received)
    assert set(cases) == set(case_ids)
    assert all([e["type"] for e in events] == APPROVED for events in cases.values())

    # 500 forever: each case's first event dies after the retry horizon (3 attempts) and holds
    # back the rest of its case; nothing after it was sent.
    dead = await gw.wait_deliveries(failing["id"], "dead", count)
    assert {d["sequence"] for d in dead} == {1}
    assert all(d["attempts"] == 3 and "500" in d["last_error"] for d in dead)
    assert {c.event["type"] for c in gw.receiver.calls("failing")} == {"case.opened"}
    held = await gw.deliveries(failing["id"], "pending")
    assert len(held) == count * 2
    unreachable_dead = await gw.wait_deliveries(unreachable.json()["id"], "dead", count)
    assert all("connection failed" in d["last_error"] for d in unreachable_dead)

    # Fixed and replayed: everything arrives, each case in order.
    gw.receiver.behave("failing", status=200)
    replay = await gw.api.post(f"/v1/subscriptions/{failing['id']}/replay")
    assert replay.json() == {"replayed": count}
    recovered = await gw.receiver.wait_delivered("failing", count * len(APPROVED))
    assert all([e["type"] for e in ev] == APPROVED for ev in _by_case(recovered).values())
    await gw.receiver.wait_delivered("slow", count * len(APPROVED), timeout=30)
    assert slow["id"] != healthy["id"]


async def test_rotation_signs_with_both_secrets_during_the_grace_period(
    events_gateway: EventsGateway,
) -> None:
    gw = events_gateway
    subscription = await gw.subscribe("rotating", event_types=["case.opened"])
    old = subscription["secret"]
    rotated = await gw.api.post(f"/v1/subscriptions/{subscription['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and new.startswith("whsec_")
    await gw.submit("k1")
    (during,) = await gw.receiver.wait_delivered("rotating", 1)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert during.verified_with(old) and during.verified_with(new)

    final = await gw.api.post(
        f"/v1/subscriptions/{subscription['id']}/rotate-secret", json={"grace_seconds": 0}
    )
    newest = final.json()["secret"]
    await gw.submit("k2")
    after = (await gw.receiver.wait_delivered("rotating", 2))[1]
    assert after.verified_with(newest)
    assert not after.verified_with(new)
    assert not after.verified_with(old)
    view = await gw.api.get(f"/v1/subscriptions/{subscription['id']}")
    assert "secret" not in view.json()


async def test_payloads_carry_no_phi_beyond_the_catalog(events_gateway: EventsGateway) -> None:
    gw = events_gateway
    await gw.subscribe("phi", event_types=[*json.loads(json.dumps(_ALL_TYPES))])
    await gw.submit("c1")
    await gw.submit("c2", procedure_code="43644")
    received = await gw.receiver.wait_delivered("phi", 6)
    example = json.loads((EXAMPLES / "prior-authorization.json").read_text())
    canaries = [
        example["patient"]["given"],
        example["patient"]["family"],
        example["patient"]["birth_date"],
        example["patient"]["mrn"],
        example["coverage"]["member_id"],
        example["coverage"]["group_number"],
        example["requesting_provider"]["npi"],
    ]
    for call in received:
        text = call.body.decode() + json.dumps(call.headers)
        assert not [c for c in canaries if c in text]
        event = call.event
        assert set(event) == {"id", "type", "version", "occurred_at", "case", "data"}
        assert set(event["case"]) == {"id", "type", "payer_id", "sequence"}


async def test_filters_and_tenants_scope_what_a_subscription_receives(
    events_gateway: EventsGateway,
) -> None:
    gw = events_gateway
    other_payer = await gw.subscribe("other-payer", filter={"payers": ["OTHERHP"]})
    eligibility_only = await gw.subscribe("elig", filter={"case_types": ["eligibility_check"]})
    everything = await gw.subscribe("all")
    await gw.submit("f1")
    await gw.receiver.wait_delivered("all", len(APPROVED))
    await asyncio.sleep(0.3)
    assert gw.receiver.calls("other-payer") == []
    assert gw.receiver.calls("elig") == []
    assert other_payer["filter"] == {"case_types": None, "payers": ["OTHERHP"]}
    assert eligibility_only["filter"]["case_types"] == ["eligibility_check"]
    assert everything["target"] == {
        "kind": "webhook",
        "url": gw.receiver.url("all"),
        "instance": None,
    }


_ALL_TYPES = [
    "case.opened",
    "case.submitted",
    "case.pended",
    "case.cancelled",
    "authorization.approved",
    "authorization.denied",
    "authorization.pended",
    "authorization.partially_approved",
]
