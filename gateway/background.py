"""What runs beside the HTTP edge: the queue sampler behind the queue metrics and, unless this
process only serves, the outbox workers. `casegate serve` and `casegate worker` both run it."""

from __future__ import annotations

import asyncio

from gateway.dispatch.worker import OutboxWorker
from gateway.events.worker import DeliveryWorker
from gateway.fhir.payer_reconciliation import run_payer_follow_up
from gateway.metrics import GatewayMetrics
from gateway.orchestration.packs import run_pack_reloader
from gateway.orchestration.sweeper import SlaSweeper
from gateway.orchestration.work_queue_sampler import WorkQueueSampler
from gateway.queue_sampler import QueueSampler
from gateway.runtime import Runtime
from gateway.x12.control_numbers import attach_control_numbers
from gateway.x12.pickup import run_pickups


class Background:
    def __init__(self, runtime: Runtime, metrics: GatewayMetrics, *, with_workers: bool) -> None:
        self.runtime = runtime
        self.sampler = QueueSampler(runtime.store)
        self._metrics = metrics
        self._with_workers = with_workers

    async def run(self, stop: asyncio.Event) -> None:
        await attach_control_numbers(self.runtime)
        self._metrics.watch_queue(self.sampler)
        tasks = [asyncio.create_task(self.sampler.run(stop))]
        policies = self.runtime.settings.policies
        reloader = run_pack_reloader(self.runtime.policies, policies.reload_seconds, stop)
        tasks.append(asyncio.create_task(reloader))
        work_queues = WorkQueueSampler(self.runtime.store, policies.sweep_seconds)
        self._metrics.watch_work_queues(work_queues)
        tasks.append(asyncio.create_task(work_queues.run(stop)))
        tasks.append(asyncio.create_task(run_payer_follow_up(self.runtime, stop)))
        tasks.append(asyncio.create_task(run_pickups(self.runtime, stop)))
        if self._with_workers:
            worker = OutboxWorker(self.runtime, metrics=self._metrics)
            tasks.append(asyncio.create_task(worker.run(stop)))
            sweeper = SlaSweeper(self.runtime.store, self._metrics)
            tasks.append(asyncio.create_task(sweeper.run(stop, policies.sweep_seconds)))
            deliveries = DeliveryWorker(self.runtime, metrics=self._metrics)
            tasks.append(asyncio.create_task(deliveries.run(stop)))
        try:
            await asyncio.gather(*tasks)
        finally:
            self._metrics.unwatch_queue(self.sampler)
            self._metrics.unwatch_work_queues(work_queues)
