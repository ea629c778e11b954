"""Event delivery figures: webhook throughput, and what one slow subscriber costs the others.

`run()` returns (name, ratio, note) rows for `python -m bench`:
- catalog events delivered per second to a local webhook receiver (signed, through the
  per-subscriber outbox, SQLite store), as a ratio over POSTing the same bodies straight to the
  same receiver with httpx, as many at a time as a delivery lane;
- the delay from a decision (its event's time, taken just before the transaction writing it)
  to its arrival at a healthy subscriber, p50 and p99, with a deliberately slow subscriber
  (every answer takes 0.5 s) taking the same events, as a ratio over the same stream without
  it (goal: p99 at most 2x); the two kinds of stream alternate, and each kind's delays pool;
- the same two figures for the ERP sandbox, subscribed through the `erp` connector beside the
  healthy webhook (each approval posts a requisition release, a schedule update and an
  expected reimbursement), the rate as a ratio over the ERP connector posting the same events
  itself, as many at a time as a delivery lane.
Decisions are written as the outcome recorder writes them (events appended in batches), and
the delivery worker runs in this process, as the embedded default runs it.
Run alone: `uv run python -m bench.events_bench`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from canonical.events import case_created, transition_event
from canonical.status import CaseStatus
from connectors.contract import ConnectorRequest
from connectors.erp.sandbox import ErpSandbox
from connectors.loopback import LoopbackServer
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.registry import ConnectorRegistry
from connectors.secrets import SecretRef
from gateway.events.signing import new_secret
from gateway.events.worker import DeliveryWorker
from gateway.intake import event_record
from gateway.runtime import Runtime, open_runtime
from gateway.settings import ConnectorInstance, EventSettings, Settings, WorkerSettings
from gateway.store import cases
from gateway.store import subscriptions as store
from gateway.store.ids import new_id
from gateway.store.records import NewCase

BULK_EVENTS = 600
STREAM_SECONDS = 4.0
# Streams alternate (alone, beside the slow one, alone, ...) so a drift in the machine's load
# does not land on one side only; each side's delays are pooled.
STREAM_ROUNDS = 2
STREAM_PER_SECOND = 50
TICK_SECONDS = 0.1
SLOW_ANSWER_SECONDS = 0.5
WAIT_LIMIT_SECONDS = 30.0
CONCURRENCY = EventSettings().per_subscription_concurrency
ERP_CLIENT = "casegate-bench"
ERP_INSTANCE = "erp"


class _Receiver:
    """A webhook receiver on loopback that notes when each event arrived, per path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.arrivals: dict[str, list[tuple[float, bytes]]] = {}
        self.slow: set[str] = set()
        self.server = LoopbackServer(self)

    def count(self, path: str) -> int:
        with self._lock:
            return len(self.arrivals.get(path, []))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        arrived = time.time()
        path = scope["path"].lstrip("/")
        if path in self.slow:
            await asyncio.sleep(SLOW_ANSWER_SECONDS)
        with self._lock:
            self.arrivals.setdefault(path, []).append((arrived, body))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


class _ErpWatcher:
    """Notes when each case's requisition checkpoint reached the ERP sandbox's ledger."""

    def __init__(self, erp: ErpSandbox) -> None:
        self._erp = erp
        self.seen: dict[str, float] = {}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            now = time.time()
            for document in self._erp.ledger.documents("requisition_checkpoints"):
                self.seen.setdefault(document["case_reference"], now)
            await asyncio.sleep(0.005)

    async def reached(self, case_ids: list[str]) -> None:
        deadline = time.monotonic() + WAIT_LIMIT_SECONDS
        while not all(case_id in self.seen for case_id in case_ids):
            if time.monotonic() > deadline:
                got = sum(1 for case_id in case_ids if case_id in self.seen)
                raise RuntimeError(f"ERP: {got} of {len(case_ids)} events posted")
            await asyncio.sleep(0.01)


def _erp_config(erp: ErpSandbox, secret_file: Path) -> dict[str, Any]:
    return {
        "base_url": erp.base_url,
        "profile": "rest",
        "timeout_seconds": 5,
        "auth": {
            "token_url": f"{erp.base_url}/oauth/token",
            "client_id": ERP_CLIENT,
            "client_secret": f"file:{secret_file}",
        },
    }


async def _erp_rates(
    runtime: Runtime, watcher: _ErpWatcher, config: dict[str, Any], case_ids: list[str]
) -> tuple[float, float]:
    """Events posted per second through the subscription, and by the connector directly."""
    subscription_id = await _subscribe(runtime, None)
    started = time.perf_counter()
    for start in range(0, len(case_ids), 100):
        await _decide(runtime, case_ids[start : start + 100])
    await watcher.reached(case_ids)
    through = len(case_ids) / (time.perf_counter() - started)
    async with runtime.store.connect() as conn:
        delivered = await store.list_deliveries(
            conn, subscription_id, status=None, after_id=None, limit=len(case_ids)
        )
    await _unsubscribe(runtime, subscription_id)
    bodies = [delivery.payload for delivery in delivered]
    connector = ConnectorRegistry().create("erp", config)
    queue = list(bodies)

    async def post() -> None:
        while queue:
            payload = queue.pop()
            await connector.send(
                ConnectorRequest(
                    operation="erp.post",
                    idempotency_key=f"direct-{new_id()}",
                    case_id=str(payload["case"]["id"]),
                    case_type="prior_authorization",
                    payload=payload,
                )
            )

    started = time.perf_counter()
    try:
        await asyncio.gather(*(post() for _ in range(CONCURRENCY)))
    finally:
        await connector.aclose()
    return through, len(bodies) / (time.perf_counter() - started)


async def _open_cases(runtime: Runtime, count: int) -> list[str]:
    """Cases already sent to the payer, opened before anyone subscribed."""
    now = datetime.now(UTC)
    new = [
        NewCase(
            id=new_id(),
            tenant="default",
            type="prior_authorization",
            status="submitted",
            payer_id="ACMEHP",
            urgency="standard",
            payload={"urgency": "standard"},
            created_at=now,
        )
        for _ in range(count)
    ]
    async with runtime.store.begin() as conn:
        await cases.add_cases(conn, new)
        await cases.add_first_events(
            conn, [event_record(case_created(c.id, CaseStatus.draft, now)) for c in new]
        )
    return [c.id for c in new]


async def _decide(runtime: Runtime, case_ids: list[str]) -> None:
    """Approvals in one transaction, as the outcome recorder appends a batch's events."""
    now = datetime.now(UTC)
    events = [
        event_record(
            transition_event(
                case_id,
                CaseStatus.submitted,
                CaseStatus.approved,
                now,
                {"outcome": "approved", "auth_number": f"AUTH-{n}"},
            )
        )
        for n, case_id in enumerate(case_ids)
    ]
    async with runtime.store.begin() as conn:
        await cases.append_events(conn, events)


async def _subscribe(runtime: Runtime, url: str | None) -> str:
    """A webhook subscription to `url`, or with None one to the ERP connector instance."""
    subscription_id = f"sub_{new_id()}"
    async with runtime.store.begin() as conn:
        await store.add_subscription(
            conn,
            runtime.store.cipher,
            store.NewSubscription(
                id=subscription_id,
                tenant="default",
                event_types=["authorization.approved"],
                case_types=None,
                payers=None,
                target_kind="webhook" if url is not None else f"connector:{ERP_INSTANCE}",
                target_url=url,
                description=None,
                secret=new_secret(),
                created_at=datetime.now(UTC),
            ),
        )
    # Let the worker start the new subscription's lane before events are timed.
    await asyncio.sleep(runtime.settings.events.refresh_seconds * 3)
    return subscription_id


async def _unsubscribe(runtime: Runtime, subscription_id: str) -> None:
    async with runtime.store.begin() as conn:
        await store.delete_subscription(conn, subscription_id, "default")


async def _arrived(receiver: _Receiver, path: str, count: int) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while receiver.count(path) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path}: {receiver.count(path)} of {count} events arrived")
        await asyncio.sleep(0.01)


async def _bulk_rate(runtime: Runtime, receiver: _Receiver, case_ids: list[str]) -> float:
    path = "bulk"
    subscription_id = await _subscribe(runtime, receiver.server.base_url + "/" + path)
    started = time.perf_counter()
    for start in range(0, len(case_ids), 100):
        await _decide(runtime, case_ids[start : start + 100])
    await _arrived(receiver, path, len(case_ids))
    elapsed = time.perf_counter() - started
    await _unsubscribe(runtime, subscription_id)
    return len(case_ids) / elapsed


async def _direct_rate(receiver: _Receiver, bodies: list[bytes]) -> float:
    path = "direct"
    url = receiver.server.base_url + "/" + path
    queue = list(bodies)
    async with httpx.AsyncClient() as client:

        async def post() -> None:
            while queue:
                body = queue.pop()
                response = await client.post(
                    url, content=body, headers={"Content-Type": "application/json"}
                )
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(post() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed


async def _stream_delays(
    runtime: Runtime,
    receiver: _Receiver,
    watcher: _ErpWatcher,
    case_ids: list[str],
    *,
    with_slow: bool,
    number: int,
) -> tuple[list[float], list[float]]:
    """Decisions at a steady rate; the decision-to-arrival delays at the healthy webhook and at
    the ERP."""
    tag = f"{'with-slow' if with_slow else 'alone'}-{number}"
    healthy = f"healthy-{tag}"
    base = receiver.server.base_url
    subscribed = [
        await _subscribe(runtime, f"{base}/{healthy}"),
        await _subscribe(runtime, None),
    ]
    if with_slow:
        receiver.slow.add(f"slow-{tag}")
        subscribed.append(await _subscribe(runtime, f"{base}/slow-{tag}"))
    per_tick = max(1, round(STREAM_PER_SECOND * TICK_SECONDS))
    started = time.perf_counter()
    for tick, start in enumerate(range(0, len(case_ids), per_tick)):
        await _decide(runtime, case_ids[start : start + per_tick])
        pause = started + (tick + 1) * TICK_SECONDS - time.perf_counter()
        if pause > 0:
            await asyncio.sleep(pause)
    await _arrived(receiver, healthy, len(case_ids))
    await watcher.reached(case_ids)
    for subscription_id in subscribed:
        await _unsubscribe(runtime, subscription_id)
    webhook, erp = [], []
    for arrived, body in receiver.arrivals[healthy]:
        event = json.loads(body)
        decided = datetime.fromisoformat(event["occurred_at"]).timestamp()
        webhook.append(arrived - decided)
        erp.append(watcher.seen[event["case"]["id"]] - decided)
    return webhook, erp


def _percentile(values: list[float], point: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[point - 1]


async def _measure() -> list[tuple[str, float, str]]:
    receiver = _Receiver()
    receiver.server.start()
    stream_count = int(STREAM_SECONDS * STREAM_PER_SECOND)
    with tempfile.TemporaryDirectory(prefix="casegate-events-bench-") as name:
        secret_file = Path(name) / "erp-secret"
        secret_file.write_text(new_id())
        erp = ErpSandbox(
            [SandboxClient(client_id=ERP_CLIENT, client_secret=SecretRef(f"file:{secret_file}"))]
        )
        erp.start()
        erp_config = _erp_config(erp, secret_file)
        settings = Settings(
            home=Path(name) / "home",
            workers=WorkerSettings(in_process=False),
            events=EventSettings(timeout_seconds=5.0, refresh_seconds=0.1),
            connectors={ERP_INSTANCE: ConnectorInstance(kind="erp", config=erp_config)},
        )
        runtime = await open_runtime(settings)
        stop = asyncio.Event()
        watcher = _ErpWatcher(erp)
        tasks = [
            asyncio.create_task(DeliveryWorker(runtime).run(stop)),
            asyncio.create_task(watcher.run(stop)),
        ]
        try:
            opened = await _open_cases(runtime, 2 * BULK_EVENTS + 2 * STREAM_ROUNDS * stream_count)
            rate = await _bulk_rate(runtime, receiver, opened[:BULK_EVENTS])
            direct = await _direct_rate(receiver, [body for _, body in receiver.arrivals["bulk"]])
            erp_rate, erp_direct = await _erp_rates(
                runtime, watcher, erp_config, opened[BULK_EVENTS : 2 * BULK_EVENTS]
            )
            streams = iter(
                opened[start : start + stream_count]
                for start in range(2 * BULK_EVENTS, len(opened), stream_count)
            )
            alone: tuple[list[float], list[float]] = ([], [])
            beside: tuple[list[float], list[float]] = ([], [])
            for number in range(STREAM_ROUNDS):
                for pooled, with_slow in ((alone, False), (beside, True)):
                    webhook, erp_delays = await _stream_delays(
                        runtime,
                        receiver,
                        watcher,
                        next(streams),
                        with_slow=with_slow,
                        number=number,
                    )
                    pooled[0].extend(webhook)
                    pooled[1].extend(erp_delays)
            slow_got = receiver.count("slow-with-slow-0")
        finally:
            stop.set()
            for task in tasks:
                with contextlib.suppress(Exception):
                    await task
            await runtime.close()
            erp.stop()
            receiver.server.stop()
    rows = [
        (
            "webhook events delivered per second",
            rate / direct,
            f"{rate:.0f}/s signed through the per-subscriber outbox vs {direct:.0f}/s posted"
            f" directly, {BULK_EVENTS} events, {CONCURRENCY} at a time",
        ),
        (
            "ERP: events posted per second through a connector subscription",
            erp_rate / erp_direct,
            f"{erp_rate:.0f}/s vs {erp_direct:.0f}/s by the erp connector directly, three ERP"
            f" documents per approval, {BULK_EVENTS} events",
        ),
    ]
    ms = 1000
    for target, index in (("webhook", 0), ("ERP", 1)):
        for point in (50, 99):
            without = _percentile(alone[index], point)
            present = _percentile(beside[index], point)
            goal = " (goal: at most x2)" if point == 99 else ""
            rows.append(
                (
                    f"decision -> {target} p{point}, slow subscriber present vs absent",
                    present / without,
                    f"{present * ms:.0f} ms vs {without * ms:.0f} ms{goal},"
                    f" {STREAM_PER_SECOND} decisions/s; the slow one ({SLOW_ANSWER_SECONDS} s per"
                    f" answer) had {slow_got} of its first {stream_count}",
                )
            )
    return rows


def run() -> list[tuple[str, float, str]]:
    return asyncio.run(_measure())


if __name__ == "__main__":
    for figure, ratio, note in run():
        print(f"  {figure}: x{ratio:.2f}  ({note})")
