"""Dead-letter operations shared by the CLI (and, later, the admin API).

A replay puts jobs back in front of a payer: it is an admin action, so the jobs it moved are
written to the audit trail in the same transaction that moves them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.audit.entries import DLQ_REPLAY, admin_action, operator_name
from gateway.settings import Settings
from gateway.store import outbox
from gateway.store.audit import append_audit
from gateway.store.cipher import load_data_key
from gateway.store.engine import open_store
from gateway.store.schema import outbox_jobs


async def list_dead_letters(settings: Settings, limit: int) -> list[str]:
    store = await open_store(
        settings.resolved_database_url, load_data_key(settings.home, settings.data_key)
    )
    try:
        async with store.connect() as conn:
            jobs = await outbox.list_dead(conn, limit)
    finally:
        await store.close()
    return [
        f"{job.id}\t{job.kind}\tcase {job.case_id}\tattempts {job.attempts}\t{job.last_error}"
        for job in jobs
    ]


async def _dead_job_ids(conn: AsyncConnection, job_id: int | None) -> list[int]:
    # Locked, so that the ids audited are exactly the jobs replayed below.
    query = sa.select(outbox_jobs.c.id).where(outbox_jobs.c.status == "dead")
    if job_id is not None:
        query = query.where(outbox_jobs.c.id == job_id)
    return list((await conn.execute(query.order_by(outbox_jobs.c.id).with_for_update())).scalars())


async def replay_dead_letters(settings: Settings, job_id: int | None) -> int:
    store = await open_store(
        settings.resolved_database_url, load_data_key(settings.home, settings.data_key)
    )
    try:
        async with store.begin() as conn:
            job_ids = await _dead_job_ids(conn, job_id)
            replayed = [i for i in job_ids if await outbox.replay_dead(conn, i)]
            entry = admin_action(
                operator=operator_name(),
                action="E",
                event=DLQ_REPLAY,
                detail={
                    "requested": "all" if job_id is None else job_id,
                    "job_ids": replayed,
                },
            )
            await append_audit(conn, [entry])
            return len(replayed)
    finally:
        await store.close()
