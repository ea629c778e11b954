"""Dead-letter operations shared by the CLI (and, later, the admin API)."""

from __future__ import annotations

from gateway.settings import Settings
from gateway.store import outbox
from gateway.store.cipher import load_data_key
from gateway.store.engine import open_store


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


async def replay_dead_letters(settings: Settings, job_id: int | None) -> int:
    store = await open_store(
        settings.resolved_database_url, load_data_key(settings.home, settings.data_key)
    )
    try:
        async with store.begin() as conn:
            return await outbox.replay_dead(conn, job_id)
    finally:
        await store.close()
