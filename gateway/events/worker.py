"""The delivery worker: one lane per subscription, each claiming and carrying its own deliveries.

A lane has its own concurrency and connection pool, and claims only deliveries whose case owes
no earlier event to that subscription, so a slow or dead subscriber stalls only itself and a
case's events arrive in order. Every lane's store work goes through one group commit (the
ledger): a round settles what a lane finished and claims what it may start next, and all lanes'
rounds share a transaction. Retries follow the settings' retry policy (gateway.dispatch.backoff);
past its horizon a delivery is dead and holds back the later events of its case until replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from connectors.errors import ConnectorError, PermanentError, TransientError
from gateway.dispatch.backoff import exhausted, next_attempt_at
from gateway.events.targets import EventSender, Target
from gateway.metrics import GatewayMetrics, gateway_metrics
from gateway.runtime import Runtime
from gateway.settings import RetryPolicy
from gateway.store.clock import utcnow
from gateway.store.group_commit import GroupCommit
from gateway.store.ids import new_id
from gateway.store.subscriptions import (
    DeliveryRow,
    DeliverySettlement,
    SubscriptionRow,
    claim_deliveries,
    delivery_subscription,
    has_due,
    settle_deliveries,
    subscription_ids,
)
from gateway.telemetry import ERROR_TYPE, OUTCOME, traced

_log = structlog.get_logger("casegate.events")
# Longest a finished delivery waits to be recorded when its lane has nothing to claim.
SETTLE_WITHIN_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class LaneRound:
    subscription_id: str
    owner: str
    settlements: list[DeliverySettlement]
    claim: int
    lease_seconds: float


class DeliveryLedger(GroupCommit[LaneRound, list[DeliveryRow]]):
    """Settles and claims for every lane, many rounds to a transaction."""

    task_name = "casegate-delivery-ledger"

    def __init__(self, runtime: Runtime, max_batch: int = 256) -> None:
        super().__init__(max_batch)
        self._store = runtime.store

    async def round(self, lane_round: LaneRound) -> list[DeliveryRow]:
        return await self._submit(lane_round)

    async def _write(self, batch: Sequence[LaneRound]) -> list[list[DeliveryRow]]:
        async with self._store.begin() as conn:
            # Settled first: a case's next event becomes claimable in the same transaction.
            await settle_deliveries(conn, [s for r in batch for s in r.settlements])
            return [
                await claim_deliveries(conn, r.subscription_id, r.owner, r.claim, r.lease_seconds)
                if r.claim
                else []
                for r in batch
            ]


class DeliveryWorker:
    def __init__(
        self, runtime: Runtime, owner: str | None = None, metrics: GatewayMetrics | None = None
    ) -> None:
        self._runtime = runtime
        self._metrics = metrics or gateway_metrics()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:events:{new_id()[-6:]}"
        self._ledger = DeliveryLedger(runtime)

    async def run(self, stop: asyncio.Event) -> None:
        settings = self._runtime.settings.events
        lanes: dict[str, asyncio.Task[None]] = {}
        await self._ledger.start()
        try:
            while not stop.is_set():
                async with self._runtime.store.connect() as conn:
                    current = set(await subscription_ids(conn))
                for gone in lanes.keys() - current:
                    lanes.pop(gone).cancel()
                for sub_id in sorted(current - lanes.keys()):
                    lane = SubscriberLane(
                        self._runtime, sub_id, self.owner, self._ledger, self._metrics
                    )
                    lanes[sub_id] = asyncio.create_task(
                        lane.run(stop), name=f"casegate-events-{sub_id}"
                    )
                for sub_id, task in list(lanes.items()):
                    if task.done():  # the subscription went away under the lane
                        del lanes[sub_id]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.refresh_seconds)
        finally:
            await asyncio.gather(*lanes.values(), return_exceptions=True)
            await self._ledger.stop()


class SubscriberLane:
    """Deliveries of one subscription: claim what is due, carry it, settle it."""

    def __init__(
        self,
        runtime: Runtime,
        subscription_id: str,
        owner: str,
        ledger: DeliveryLedger,
        metrics: GatewayMetrics,
    ) -> None:
        settings = runtime.settings
        self._metrics = metrics
        self._runtime = runtime
        self._id = subscription_id
        self._owner = owner
        self._ledger = ledger
        self._events = settings.events
        self._poll = settings.workers.poll_interval_seconds
        self._policy: RetryPolicy = settings.retry_policies[settings.events.retry_policy]
        self._concurrency = settings.events.per_subscription_concurrency
        # Claimed ahead, leased, waiting for a free sender: one claim serves several deliveries
        # instead of one claim per freed slot (settings make the lease outlast the wait).
        self._capacity = self._concurrency * settings.events.claim_ahead
        self._sending = asyncio.Semaphore(self._concurrency)
        self._active: set[asyncio.Task[None]] = set()
        self._settled: list[DeliverySettlement] = []
        self._settled_since = 0.0
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        sender = EventSender(self._runtime.connectors, self._events.timeout_seconds)
        try:
            while not stop.is_set():
                self._wake.clear()
                if not await self._round(sender):
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)
        finally:
            if self._active:
                await asyncio.gather(*self._active, return_exceptions=True)
            if self._settled:
                with contextlib.suppress(Exception):  # the ledger may be gone on a hard stop
                    await self._ledger.round(self._lane_round(0))
            await sender.aclose()

    def _lane_round(self, claim: int) -> LaneRound:
        settled, self._settled = self._settled, []
        return LaneRound(self._id, self._owner, settled, claim, self._events.lease_seconds)

    async def _round(self, sender: EventSender) -> bool:
        """Settle what finished, start what is due; False once the subscription is gone."""
        free = self._capacity - len(self._active)
        claim = free if not self._active or free >= self._concurrency else 0
        if claim and not self._settled:
            async with self._runtime.store.connect() as conn:  # an idle lane only reads
                if not await has_due(conn, self._id, utcnow()):
                    claim = 0
        if not claim and not self._settle_now():
            return True
        claimed = await self._ledger.round(self._lane_round(claim))
        if not claimed:
            return True
        store = self._runtime.store
        async with store.connect() as conn:
            found = await delivery_subscription(conn, store.cipher, self._id, utcnow())
        if found is None:
            return False
        subscription, secrets = found
        for delivery in claimed:
            task = asyncio.create_task(self._deliver(sender, subscription, secrets, delivery))
            self._active.add(task)
            task.add_done_callback(self._finished)
        return True

    def _settle_now(self) -> bool:
        """Whether finished deliveries should be written without waiting to claim more.

        A busy lane settles together with its next claim: a slow target finishing one delivery
        at a time must not cost a write transaction (a turn at SQLite's lock) for each.
        """
        if not self._settled:
            return False
        waited = time.monotonic() - self._settled_since
        full = len(self._settled) >= self._concurrency
        return not self._active or full or waited >= SETTLE_WITHIN_SECONDS

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._active.discard(task)
        self._wake.set()  # settle it, and the case's next event may be due

    async def _deliver(
        self,
        sender: EventSender,
        subscription: SubscriptionRow,
        secrets: list[str],
        delivery: DeliveryRow,
    ) -> None:
        target = Target.from_stored(subscription.target_kind, subscription.target_url)
        async with self._sending:
            with traced("event.deliver") as span:
                span.set_attribute("subscription.id", self._id)
                span.set_attribute("event.type", delivery.event_type)
                try:
                    await sender.send(target, delivery, secrets)
                except ConnectorError as exc:
                    span.set_attribute(ERROR_TYPE, type(exc).__name__)
                    settlement = self._failed(delivery, exc)
                except Exception as exc:
                    # A bug, not the target's answer: log the type only and try again later.
                    _log.exception("event_delivery_error", error_type=type(exc).__name__)
                    settlement = self._failed(delivery, TransientError(type(exc).__name__))
                else:
                    settlement = DeliverySettlement(
                        delivery.id, self._owner, "delivered", None, datetime.now(UTC)
                    )
                span.set_attribute(OUTCOME, settlement.status)
        self._measure(delivery, settlement)
        if not self._settled:
            self._settled_since = time.monotonic()
        self._settled.append(settlement)

    def _measure(self, delivery: DeliveryRow, settlement: DeliverySettlement) -> None:
        delivered = settlement.status == "delivered"
        outcome = "retry" if settlement.status == "pending" else settlement.status
        lag = (settlement.available_at - delivery.created_at).total_seconds() if delivered else None
        self._metrics.event_delivery(delivery.event_type, self._id, outcome, lag)

    def _failed(self, delivery: DeliveryRow, error: ConnectorError) -> DeliverySettlement:
        now = datetime.now(UTC)
        if isinstance(error, PermanentError) or exhausted(self._policy, delivery.attempts):
            reason = error.reason
            if not isinstance(error, PermanentError):
                reason = f"gave up after {delivery.attempts} attempts: {reason}"
            _log.warning(
                "event_delivery_dead",
                subscription_id=self._id,
                delivery_id=delivery.id,
                event_type=delivery.event_type,
                reason=reason,
            )
            return DeliverySettlement(delivery.id, self._owner, "dead", reason, now)
        retry_after = error.retry_after if isinstance(error, TransientError) else None
        when = next_attempt_at(self._policy, delivery.attempts, now, retry_after)
        return DeliverySettlement(delivery.id, self._owner, "pending", error.reason, when)
