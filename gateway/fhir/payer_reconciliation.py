"""Follow-up of pended FHIR PAS cases: keep the payer subscriptions in place and `$inquire`
only the cases whose notification is overdue, a bounded number per interval.

PAS forbids polling while waiting for a decision (spec-9) and repeated inquiries that stress a
payer (spec-42); a notification can still be lost (a payer's delivery fails, casegate was
down). So a pended case that has not moved for `notification_overdue_seconds` gets one
follow-up job (the worker's own `$inquire`), and no second one until it has been quiet that
long again; the oldest go first, at most `max_inquiries_per_interval` per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog

from canonical.status import CaseStatus
from gateway.fhir.payer_subscriptions import ensure_subscriptions, follows_up_by_notification
from gateway.intake import FOLLOW_UP_JOB
from gateway.runtime import Runtime
from gateway.store import outbox
from gateway.store.records import NewJob
from gateway.store.schema import cases, outbox_jobs

_log = structlog.get_logger("casegate.fhir.reconciliation")


async def reconcile_overdue(runtime: Runtime, now: datetime) -> int:
    """Schedule an `$inquire` for each overdue pended case (up to the rate); returns how many."""
    settings = runtime.settings
    names = [n for n in settings.connectors if follows_up_by_notification(settings, n)]
    limit = settings.payer_follow_up.max_inquiries_per_interval
    if not names or limit == 0:
        return 0
    cutoff = now - timedelta(seconds=settings.payer_follow_up.notification_overdue_seconds)
    recent_follow_up = (
        sa.select(outbox_jobs.c.id)
        .where(
            outbox_jobs.c.case_id == cases.c.id,
            outbox_jobs.c.kind == FOLLOW_UP_JOB,
            outbox_jobs.c.created_at >= cutoff,
        )
        .exists()
    )
    query = (
        sa.select(cases.c.id, cases.c.route, cases.c.decision)
        .where(
            cases.c.status == CaseStatus.pended.value,
            cases.c.route.in_(names),
            cases.c.updated_at < cutoff,
            ~recent_follow_up,
        )
        .order_by(cases.c.updated_at)
        .limit(limit)
    )
    async with runtime.store.begin() as conn:
        overdue = (await conn.execute(query)).all()
        jobs = [
            NewJob(
                kind=FOLLOW_UP_JOB,
                case_id=row.id,
                connector=row.route,
                payload={"payer_reference": (row.decision or {}).get("payer_reference")},
                trace_context={},
                available_at=now,
            )
            for row in overdue
        ]
        await outbox.enqueue_many(conn, jobs)
    if jobs:
        _log.info("overdue_notifications_reconciled", inquiries=len(jobs))
    return len(jobs)


async def run_payer_follow_up(runtime: Runtime, stop: asyncio.Event) -> None:
    """Subscribe at the payers, then reconcile once per interval, until `stop`."""
    settings = runtime.settings.payer_follow_up
    if settings.callback_base_url is None:
        return
    missing = await ensure_subscriptions(runtime)
    loop = asyncio.get_running_loop()
    next_reconcile = loop.time() + settings.reconcile_interval_seconds
    while not stop.is_set():
        wait = next_reconcile - loop.time()
        if missing:
            wait = min(wait, settings.subscribe_retry_seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(wait, 0.0))
        if stop.is_set():
            break
        try:
            if missing:
                missing = await ensure_subscriptions(runtime)
            if loop.time() >= next_reconcile:
                next_reconcile = loop.time() + settings.reconcile_interval_seconds
                await reconcile_overdue(runtime, datetime.now(UTC))
        except Exception as exc:
            # One failed round (the store briefly away) must not end the follow-up for good.
            _log.exception("payer_follow_up_failed", error_type=type(exc).__name__)
