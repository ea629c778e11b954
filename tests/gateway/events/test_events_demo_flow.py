"""The demo's events flow: its receiver verifies what the gateway signs and notices what it
should refuse (a forged signature, a case's events out of order)."""

from __future__ import annotations

import asyncio
import json
import time

from gateway.demo.events_flow import EventsFlow, _Call, tally
from gateway.demo.flow import DemoContext
from gateway.events.signing import new_secret, signed_headers
from tests.gateway.events.conftest import EventsGateway

APPROVE = None  # the example's procedure code: approved at once
PEND = "72148"  # pended, then approved on follow-up


async def test_the_flow_reports_every_authorization_event_verified_and_in_order(
    events_gateway: EventsGateway,
) -> None:
    gw = events_gateway
    flow = EventsFlow()
    await flow.start(gw.runtime.settings.home)
    try:
        ctx = DemoContext(gw.api, str(gw.api.base_url), gw.runtime, gw.runtime.settings.home, 0, 1)
        assert (await flow.run(ctx)).accepted == {}
        cases = [await gw.submit("e1", APPROVE), await gw.submit("e2", PEND)]
        await _decided(gw, cases)  # as the demo reports once its cases have settled
        # approved; pended then approved
        assert await flow.report(ctx) == [
            "authorization events to a webhook: 3 delivered, 3 verified, 0 out of order, "
            "0 dead letters, 0 still owed"
        ]
    finally:
        await flow.stop()


async def _decided(gw: EventsGateway, case_ids: list[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    for case_id in case_ids:
        while (await gw.api.get(f"/v1/cases/{case_id}")).json()["status"] != "approved":
            assert time.monotonic() < deadline, f"{case_id} undecided"
            await asyncio.sleep(0.05)


def _call(secret: str, case_id: str, sequence: int, body_case: str | None = None) -> _Call:
    event_id = f"evt_{case_id}_{sequence}"
    body = json.dumps({"id": event_id, "case": {"id": case_id, "sequence": sequence}}).encode()
    headers = signed_headers([secret], event_id, int(time.time()), body)
    if body_case is not None:  # altered after signing
        body = body.replace(case_id.encode(), body_case.encode())
    return _Call(headers, body, time.time())


def test_forged_and_reordered_deliveries_are_counted() -> None:
    secret = new_secret()
    calls = [
        _call(secret, "c1", 3),
        _call(secret, "c1", 3),  # a retry of one already received: not a reordering
        _call(secret, "c1", 2),  # behind the 3rd: out of order
        _call(secret, "c2", 1),
        _call(new_secret(), "c2", 2),  # signed with another secret
        _call(secret, "c2", 3, body_case="c9"),  # body changed after signing
    ]
    found = tally(calls, secret)
    assert (found.delivered, found.verified, found.out_of_order) == (6, 4, 1)
