"""What runs beside the HTTP edge: the queue sampler behind the queue metrics and, unless this
process only serves, the outbox workers. `casegate serve` and `casegate worker` both run it."""

from __future__ import annotations

import asyncio

from gateway.dispatch.worker import OutboxWorker
from gateway.metrics import GatewayMetrics
from gateway.queue_sampler import QueueSampler
from gateway.runtime import Runtime


class Background:
    def __init__(self, runtime: Runtime, metrics: GatewayMetrics, *, with_workers: bool) -> None:
        self.runtime = runtime
        self.sampler = QueueSampler(runtime.store)
        self._metrics = metrics
        self._with_workers = with_workers

    async def run(self, stop: asyncio.Event) -> None:
        self._metrics.watch_queue(self.sampler)
        tasks = [asyncio.create_task(self.sampler.run(stop))]
        if self._with_workers:
            worker = OutboxWorker(self.runtime, metrics=self._metrics)
            tasks.append(asyncio.create_task(worker.run(stop)))
        try:
            await asyncio.gather(*tasks)
        finally:
            self._metrics.unwatch_queue(self.sampler)
