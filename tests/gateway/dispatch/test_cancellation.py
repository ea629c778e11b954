"""Cancelling through routes that cannot carry a cancellation, and cases the payer never had."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.payer_rest.sandbox import PayerRestSandbox
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.payer_rest.sandbox_rules import Rule
from connectors.secrets import SecretRef
from gateway.dispatch.cancellation import CANCEL_JOB
from gateway.store import work
from gateway.store.schema import outbox_jobs
from tests.gateway.dispatch.conftest import LiveGateway

HELD_CODE = "72148"


@pytest.fixture
def payer(tmp_path: Path) -> Iterator[PayerRestSandbox]:
    """A payer that keeps `HELD_CODE` pended through any number of inquiries."""
    secret = tmp_path / "payer-secret"
    secret.write_text("s3cret-for-tests")
    client = SandboxClient(client_id="casegate", client_secret=SecretRef(f"file:{secret}"))
    rule = Rule(procedure_code=HELD_CODE, decide="pend", decide_after_inquiries=1_000_000)
    with PayerRestSandbox(rules=[rule], clients=[client], hang_seconds=3) as sandbox:
        yield sandbox


async def _jobs(live: LiveGateway, case_id: str) -> list[tuple[str, str]]:
    async with live.runtime.store.connect() as conn:
        query = sa.select(outbox_jobs.c.kind, outbox_jobs.c.status).where(
            outbox_jobs.c.case_id == case_id
        )
        return [(row.kind, row.status) for row in await conn.execute(query)]


async def _event(live: LiveGateway, case_id: str, kind: str) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while True:
        events = await live.events(case_id)
        found = [e for e in events if e["type"] == kind]
        if found:
            return dict(found[0])
        assert time.monotonic() < deadline, [e["type"] for e in events]
        await asyncio.sleep(0.05)


async def test_a_route_that_cannot_cancel_leaves_work_for_a_person_not_a_dead_letter(
    live: LiveGateway,
) -> None:
    case_id = await live.submit("held", procedure_code=HELD_CODE)
    await live.wait_for(case_id, {"pended"})
    assert (await live.api.post(f"/v1/cases/{case_id}/cancel")).status_code == 200
    note = await _event(live, case_id, "case.payer_not_told")
    assert note["data"] == {"connector": "acme", "reason": "connector payer_rest cannot cancel"}
    assert (CANCEL_JOB, "done") in await _jobs(live, case_id)
    assert all(status != "dead" for _, status in await _jobs(live, case_id))
    async with live.runtime.store.connect() as conn:
        [item] = await work.open_work_items(conn, case_id)
    assert (item.kind, item.queue) == ("payer_not_told", "intake")


async def test_a_case_never_sent_is_cancelled_here_only(live: LiveGateway) -> None:
    # No route for this payer: the send is dead-lettered and the case stays a draft.
    case_id = await live.submit("unrouted", payer_id="NOROUTE")
    await _event(live, case_id, "case.send_failed")
    assert (await live.case(case_id))["status"] == "draft"
    assert (await live.api.post(f"/v1/cases/{case_id}/cancel")).status_code == 200
    assert (await live.case(case_id))["status"] == "cancelled"
    assert all(kind != CANCEL_JOB for kind, _ in await _jobs(live, case_id))
