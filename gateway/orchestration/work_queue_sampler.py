"""Samples the work queues for their gauges: open items, the oldest one's age and how many are
past their SLA deadline, per queue. Gauge callbacks run outside the event loop, so a task
samples on a timer and the callbacks read the last sample."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

import structlog

from gateway.store.clock import utcnow
from gateway.store.engine import Store
from gateway.store.work import QueueSample, work_queue_stats

_log = structlog.get_logger("casegate.work_queue_sampler")


class WorkQueueSampler:
    def __init__(self, store: Store, interval: float) -> None:
        self._store = store
        self._interval = interval
        self._latest: list[QueueSample] = []
        self._seen: set[str] = set()

    async def refresh(self) -> None:
        async with self._store.connect() as conn:
            samples = await work_queue_stats(conn, utcnow())
        # A queue that emptied reports zeros rather than vanishing from the gauges.
        self._seen.update(s.queue for s in samples)
        present = {s.queue for s in samples}
        self._latest = samples + [QueueSample(q, 0, 0.0, 0) for q in self._seen - present]

    def queues(self) -> Iterable[tuple[str, int, float, int]]:
        return [(s.queue, s.open, s.oldest_age_seconds, s.sla_breached) for s in self._latest]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as exc:  # the next tick tries again
                _log.warning("work_queue_sample_failed", error_type=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)
