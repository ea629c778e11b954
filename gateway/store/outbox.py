"""The outbox: durable jobs written with the change that caused them, claimed with leases.

A claimed job stays invisible to other workers until its lease lapses; a worker that dies just
stops renewing, and the job comes back. While a job is leased, `available_at` holds the lease
expiry, so one index on (status, available_at) finds both due and abandoned jobs. Workers poll
by status and due time, never by "id greater than the last one seen", which would skip jobs
committed out of id order.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.bulk import insert_rows
from gateway.store.clock import utcnow
from gateway.store.engine import Store
from gateway.store.records import JobRow, NewJob
from gateway.store.schema import outbox_jobs

_CLAIMABLE = ("pending", "leased")


@dataclass(frozen=True, slots=True)
class QueueStats:
    pending: int
    leased: int
    dead: int
    # How long the longest-waiting due job has waited; 0.0 when none is due.
    oldest_pending_age_seconds: float


def _job_values(job: NewJob) -> dict[str, Any]:
    now = utcnow()
    return {
        "kind": job.kind,
        "case_id": job.case_id,
        "connector": job.connector,
        "payload": job.payload,
        "status": "pending",
        "attempts": 0,
        "available_at": job.available_at,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": None,
        "trace_context": job.trace_context,
        "created_at": now,
        "updated_at": now,
    }


async def enqueue(conn: AsyncConnection, job: NewJob) -> int:
    result = await conn.execute(
        sa.insert(outbox_jobs).values(_job_values(job)).returning(outbox_jobs.c.id)
    )
    return int(result.scalar_one())


async def enqueue_many(conn: AsyncConnection, jobs: Sequence[NewJob]) -> None:
    """Insert jobs in one multi-row statement (ids are not needed by intake)."""
    if jobs:
        await insert_rows(conn, outbox_jobs, [_job_values(job) for job in jobs])


async def claim_jobs(store: Store, owner: str, limit: int, lease_seconds: float) -> list[JobRow]:
    """Lease up to `limit` due jobs to `owner`, oldest due first, in one short transaction.

    Due means pending and available, or leased with a lapsed lease. On PostgreSQL the candidate
    rows are locked with SKIP LOCKED, so concurrent claimers split the queue instead of
    waiting on each other; on SQLite the write lock makes the single UPDATE exclusive.
    """
    now = utcnow()
    expires = now + timedelta(seconds=lease_seconds)
    due = (
        sa.select(outbox_jobs.c.id)
        .where(outbox_jobs.c.status.in_(_CLAIMABLE), outbox_jobs.c.available_at <= now)
        .order_by(outbox_jobs.c.available_at, outbox_jobs.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claim = (
        sa.update(outbox_jobs)
        .where(outbox_jobs.c.id.in_(due.scalar_subquery()))
        .values(
            status="leased",
            lease_owner=owner,
            lease_expires_at=expires,
            available_at=expires,
            attempts=outbox_jobs.c.attempts + 1,
            updated_at=now,
        )
        .returning(*outbox_jobs.c)
    )
    async with store.begin() as conn:
        rows = (await conn.execute(claim)).all()
    return sorted((JobRow(**row._asdict()) for row in rows), key=lambda job: job.id)


async def heartbeat(
    store: Store, owner: str, job_ids: Sequence[int], lease_seconds: float
) -> set[int]:
    """Extend the leases `owner` still holds; the jobs missing from the answer were lost."""
    if not job_ids:
        return set()
    now = utcnow()
    expires = now + timedelta(seconds=lease_seconds)
    async with store.begin() as conn:
        result = await conn.execute(
            sa.update(outbox_jobs)
            .where(
                outbox_jobs.c.id.in_(list(job_ids)),
                outbox_jobs.c.status == "leased",
                outbox_jobs.c.lease_owner == owner,
            )
            .values(lease_expires_at=expires, available_at=expires, updated_at=now)
            .returning(outbox_jobs.c.id)
        )
        return set(result.scalars())


async def _finish(conn: AsyncConnection, job_id: int, owner: str, **values: Any) -> bool:
    # Only the current lease holder may settle a job: a worker whose lease lapsed and was
    # taken over must not overwrite the new holder's outcome.
    result = await conn.execute(
        sa.update(outbox_jobs)
        .where(
            outbox_jobs.c.id == job_id,
            outbox_jobs.c.status == "leased",
            outbox_jobs.c.lease_owner == owner,
        )
        .values(lease_expires_at=None, updated_at=utcnow(), **values)
    )
    return result.rowcount == 1


async def complete_job(conn: AsyncConnection, job_id: int, owner: str) -> bool:
    return await _finish(conn, job_id, owner, status="done")


async def retry_job(
    conn: AsyncConnection, job_id: int, owner: str, error: str, available_at: datetime
) -> bool:
    """Put the job back as pending, due again at `available_at`, with the PHI-free reason."""
    return await _finish(
        conn, job_id, owner, status="pending", last_error=error, available_at=available_at
    )


async def dead_letter(conn: AsyncConnection, job_id: int, owner: str, reason: str) -> bool:
    return await _finish(conn, job_id, owner, status="dead", last_error=reason)


async def list_dead(conn: AsyncConnection, limit: int) -> list[JobRow]:
    query = (
        sa.select(outbox_jobs)
        .where(outbox_jobs.c.status == "dead")
        .order_by(outbox_jobs.c.id)
        .limit(limit)
    )
    return [JobRow(**row._asdict()) for row in await conn.execute(query)]


async def replay_dead(conn: AsyncConnection, job_id: int | None) -> int:
    """Send dead jobs (one, or all when job_id is None) back to the queue, due now.

    The last error stays on the job, so the next failure can be compared with it.
    """
    query = sa.update(outbox_jobs).where(outbox_jobs.c.status == "dead")
    if job_id is not None:
        query = query.where(outbox_jobs.c.id == job_id)
    now = utcnow()
    result = await conn.execute(
        query.values(
            status="pending", attempts=0, available_at=now, lease_owner=None, updated_at=now
        )
    )
    return result.rowcount


async def queue_stats(conn: AsyncConnection) -> QueueStats:
    now = utcnow()
    counts: dict[str, int] = {
        status: count
        for status, count in (
            await conn.execute(
                sa.select(outbox_jobs.c.status, sa.func.count())
                .where(outbox_jobs.c.status.in_(("pending", "leased", "dead")))
                .group_by(outbox_jobs.c.status)
            )
        )
    }
    oldest_due = (
        await conn.execute(
            sa.select(sa.func.min(outbox_jobs.c.available_at)).where(
                outbox_jobs.c.status == "pending", outbox_jobs.c.available_at <= now
            )
        )
    ).scalar_one()
    return QueueStats(
        pending=counts.get("pending", 0),
        leased=counts.get("leased", 0),
        dead=counts.get("dead", 0),
        oldest_pending_age_seconds=0.0
        if oldest_due is None
        else (now - oldest_due).total_seconds(),
    )
