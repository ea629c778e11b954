"""Samples the outbox per job kind for the queue gauges: depth by state, and the age of the
oldest due job.

Metric readers call gauge callbacks synchronously, from their own thread, while the store is
asynchronous; so a task in the event loop samples on a timer and the callbacks read the last
sample. One grouped query per sample, on the (status, available_at) index; finished jobs,
which are most of the table, are never read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.clock import utcnow
from gateway.store.engine import Store
from gateway.store.schema import outbox_jobs

_log = structlog.get_logger("casegate.queue_sampler")
_SAMPLED_STATES = ("pending", "leased", "dead")
DEFAULT_INTERVAL_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class KindStats:
    kind: str
    pending: int = 0
    leased: int = 0
    dead: int = 0
    # How long the longest-waiting due job has waited; 0.0 when none is due.
    oldest_due_age_seconds: float = 0.0


async def queue_stats_by_kind(conn: AsyncConnection) -> list[KindStats]:
    now = utcnow()
    jobs = outbox_jobs.c
    oldest_due = sa.func.min(
        sa.case((sa.and_(jobs.status == "pending", jobs.available_at <= now), jobs.available_at))
    )
    query = (
        sa.select(jobs.kind, jobs.status, sa.func.count(), oldest_due)
        .where(jobs.status.in_(_SAMPLED_STATES))
        .group_by(jobs.kind, jobs.status)
    )
    counts: dict[str, dict[str, int]] = {}
    ages: dict[str, float] = {}
    for kind, status, count, oldest in await conn.execute(query):
        counts.setdefault(kind, {})[status] = int(count)
        if oldest is not None:
            ages[kind] = max(ages.get(kind, 0.0), (now - oldest).total_seconds())
    return [
        KindStats(kind=kind, oldest_due_age_seconds=ages.get(kind, 0.0), **by_status)
        for kind, by_status in sorted(counts.items())
    ]


class QueueSampler:
    """The last per-kind sample of the outbox, refreshed every `interval` seconds by `run`."""

    def __init__(self, store: Store, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
        self._store = store
        self._interval = interval
        self._latest: list[KindStats] = []
        self._kinds_seen: set[str] = set()

    async def refresh(self) -> None:
        async with self._store.connect() as conn:
            stats = await queue_stats_by_kind(conn)
        # A kind whose queue emptied reports zeros rather than vanishing from the gauges.
        self._kinds_seen.update(s.kind for s in stats)
        present = {s.kind for s in stats}
        self._latest = stats + [KindStats(kind) for kind in self._kinds_seen - present]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as exc:
                _log.warning("queue_sample_failed", error_type=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)

    def depth(self) -> Iterable[tuple[str, str, int]]:
        for stats in self._latest:
            yield stats.kind, "pending", stats.pending
            yield stats.kind, "leased", stats.leased
            yield stats.kind, "dead", stats.dead

    def oldest_age(self) -> Iterable[tuple[str, float]]:
        for stats in self._latest:
            yield stats.kind, stats.oldest_due_age_seconds
