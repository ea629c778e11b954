"""Cancelling a case the PAS payer holds: the cancel route queues the withdrawal in its own
commit, the worker sends it as a PAS Claim Update (`status = cancelled`) through the real
connector, and the sandbox payer stops working on it; once, however often it is resent."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import sqlalchemy as sa

from connectors.sandbox import Fault
from gateway.dispatch.cancellation import CANCEL_JOB
from gateway.store.schema import outbox_jobs
from tests.gateway.fhir.payer_support import HELD_CODE, PasGateway


async def _told(live: PasGateway, case_id: str, timeout: float = 20) -> dict[str, Any]:
    """The case's `payer_told` event, once the worker has recorded it."""
    deadline = time.monotonic() + timeout
    while True:
        events = await live.events(case_id)
        told = [e for e in events if e["type"] == "case.payer_told"]
        if told:
            return dict(told[0])
        assert time.monotonic() < deadline, [e["type"] for e in events]
        await asyncio.sleep(0.05)


async def _cancel_jobs(live: PasGateway, case_id: str) -> list[str]:
    async with live.runtime.store.connect() as conn:
        query = sa.select(outbox_jobs.c.status).where(
            outbox_jobs.c.case_id == case_id, outbox_jobs.c.kind == CANCEL_JOB
        )
        return [row.status for row in await conn.execute(query)]


async def test_a_pended_case_is_withdrawn_at_the_payer(notified: PasGateway) -> None:
    await notified.subscribed()
    case_id = await notified.submit("held-1", procedure_code=HELD_CODE)
    await notified.wait_for(case_id, "pended")
    answer = await notified.api.post(f"/v1/cases/{case_id}/cancel")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    told = await _told(notified, case_id)
    assert told["data"] == {"connector": "pas", "payer_outcome": "cancelled"}
    assert notified.payer.effects(f"{case_id}:prior_auth.cancel") == 1
    assert notified.payer.report()["totals"]["cancellations"] == 1
    assert await _cancel_jobs(notified, case_id) == ["done"]
    case = await notified.wait_for(case_id, "cancelled")
    assert case["decision"]["outcome"] == "pended"  # the payer's last decision, kept as it was
    again = await notified.api.post(f"/v1/cases/{case_id}/cancel")
    assert again.status_code == 409


async def test_a_lost_answer_is_resent_and_cancels_once(notified: PasGateway) -> None:
    await notified.subscribed()
    case_id = await notified.submit("held-2", procedure_code=HELD_CODE)
    await notified.wait_for(case_id, "pended")
    # The payer acts on the cancellation, then its answer never arrives: the worker resends.
    notified.payer.inject(Fault.lost_response)
    assert (await notified.api.post(f"/v1/cases/{case_id}/cancel")).status_code == 200
    await _told(notified, case_id)
    key = f"{case_id}:prior_auth.cancel"
    assert notified.payer.report()["keys"][key] == {"effects": 1, "duplicates": 1}
    assert notified.payer.report()["totals"]["cancellations"] == 1


async def test_a_decided_case_is_not_sent_a_cancellation(notified: PasGateway) -> None:
    await notified.subscribed()
    case_id = await notified.submit("decided", procedure_code="27447")
    await notified.wait_for(case_id, "approved")
    assert (await notified.api.post(f"/v1/cases/{case_id}/cancel")).status_code == 200
    assert await _cancel_jobs(notified, case_id) == []
    assert notified.payer.report()["totals"]["cancellations"] == 0
