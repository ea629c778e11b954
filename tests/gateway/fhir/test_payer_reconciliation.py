"""Reconciliation of overdue notifications, on both stores: only pended cases on a payer that
notifies, only once they are overdue, the oldest first, a bounded number per round, and no
second inquiry for a case while the first is recent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.fhir.payer_reconciliation import reconcile_overdue
from gateway.intake import FOLLOW_UP_JOB
from gateway.runtime import Runtime, open_runtime
from gateway.settings import ConnectorInstance, PayerFollowUpSettings, Settings
from gateway.store.schema import cases, outbox_jobs

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PAS_CONFIG: dict[str, Any] = {"base_url": "https://pas.payer.example/fhir"}


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        connectors={
            "pas": ConnectorInstance(kind="fhir_pas", config=PAS_CONFIG),
            "rest": ConnectorInstance(kind="payer_rest", config={}),
        },
        payer_follow_up=PayerFollowUpSettings(
            callback_base_url="https://gw.example",
            notification_overdue_seconds=600,
            max_inquiries_per_interval=2,
        ),
    )
    opened = await open_runtime(settings)
    try:
        yield opened
    finally:
        await opened.close()


async def _case(runtime: Runtime, case_id: str, *, status: str, route: str, quiet: int) -> None:
    """A case last changed `quiet` seconds before NOW."""
    changed = NOW - timedelta(seconds=quiet)
    async with runtime.store.begin() as conn:
        await conn.execute(
            sa.insert(cases).values(
                id=case_id,
                tenant="default",
                type="prior_authorization",
                status=status,
                version=3,
                payer_id="PASHP",
                urgency="standard",
                route=route,
                payload={},
                decision={"outcome": status, "payer_reference": f"ref-{case_id}"},
                created_at=changed,
                updated_at=changed,
            )
        )


async def _follow_ups(runtime: Runtime) -> list[tuple[str, str | None, Any]]:
    async with runtime.store.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox_jobs.c.case_id, outbox_jobs.c.connector, outbox_jobs.c.payload)
            .where(outbox_jobs.c.kind == FOLLOW_UP_JOB)
            .order_by(outbox_jobs.c.id)
        )
        return [(r.case_id, r.connector, r.payload) for r in rows]


async def test_only_overdue_pended_pas_cases_are_inquired_oldest_first(runtime: Runtime) -> None:
    await _case(runtime, "recent", status="pended", route="pas", quiet=60)
    await _case(runtime, "old", status="pended", route="pas", quiet=3000)
    await _case(runtime, "older", status="pended", route="pas", quiet=4000)
    await _case(runtime, "oldest", status="pended", route="pas", quiet=5000)
    await _case(runtime, "rest", status="pended", route="rest", quiet=5000)
    await _case(runtime, "decided", status="approved", route="pas", quiet=5000)

    assert await reconcile_overdue(runtime, NOW) == 2  # the rate bound
    assert await _follow_ups(runtime) == [
        ("oldest", "pas", {"payer_reference": "ref-oldest"}),
        ("older", "pas", {"payer_reference": "ref-older"}),
    ]


async def test_a_case_is_not_inquired_again_while_its_inquiry_is_recent(
    runtime: Runtime,
) -> None:
    await _case(runtime, "old", status="pended", route="pas", quiet=3000)
    assert await reconcile_overdue(runtime, datetime.now(UTC)) == 1
    assert await reconcile_overdue(runtime, datetime.now(UTC)) == 0
    later = datetime.now(UTC) + timedelta(seconds=601)
    assert await reconcile_overdue(runtime, later) == 1


async def test_nothing_is_inquired_when_payers_cannot_notify(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(
        update={"payer_follow_up": PayerFollowUpSettings(callback_base_url=None)}
    )
    runtime.settings = settings
    await _case(runtime, "old", status="pended", route="pas", quiet=5000)
    assert await reconcile_overdue(runtime, NOW) == 0
