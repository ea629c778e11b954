"""The demo: the gateway, its workers and every flow's sandboxes in one process on loopback;
each flow sends its share of a synthetic backlog the way its channel does (the /v1 API with a
real token, PAS bundles, HL7 over MLLP...), and the summary at the end covers them all."""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from gateway.app import create_app
from gateway.demo.access import all_items, dev_token
from gateway.demo.flow import DemoContext, DemoFlow, FlowResult
from gateway.demo.flows import demo_flows
from gateway.runtime import Runtime
from gateway.serving import start_server
from gateway.settings import Settings
from gateway.span_export import trace_file_processor
from gateway.store import outbox
from gateway.telemetry import configure_tracing

SETTLED = {"approved", "partially_approved", "denied", "pended", "more_info_requested"}
WAIT_SECONDS = 300.0


def _demo_settings(base: Settings, home: Path, flows: list[DemoFlow]) -> Settings:
    settings = base.model_copy(
        update={
            "home": home,
            "log_level": "WARNING",  # the summary is the demo's output; warnings still show
            "connectors": {},
            "routes": [],
            "workers": base.workers.model_copy(update={"pended_follow_up_seconds": 1.0}),
        }
    )
    for flow in flows:
        settings = flow.configure(settings)
    # Validate the composed settings as a file would be: references must resolve.
    return Settings.model_validate(settings.model_dump())


def _shares(count: int, flows: list[DemoFlow]) -> list[int]:
    """Each flow's part of the backlog by weight; the first flow takes the rounding."""
    total = sum(flow.weight for flow in flows)
    shares = [count * flow.weight // total for flow in flows]
    shares[0] += count - sum(shares)
    return shares


async def _all_cases(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in await all_items(client, "/v1/cases")}


def _progress(text: str) -> None:
    sys.stderr.write(f"\r{text:<78}")
    sys.stderr.flush()


async def _wait_until_settled(
    client: httpx.AsyncClient, tally: FlowResult
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = await _all_cases(client)
        settled = sum(1 for cid in tally.accepted if found.get(cid, {}).get("status") in SETTLED)
        _progress(f"settled {settled}/{len(tally.accepted)}")
        if settled == len(tally.accepted) or time.monotonic() > deadline:
            sys.stderr.write("\n")
            return found
        await asyncio.sleep(0.5)


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def run_demo(
    base: Settings, count: int, concurrency: int, trace_out: Path | None = None
) -> int:
    """Returns the number of cases lost or unsettled; with `trace_out`, also writes every span
    of the run there as OTLP/JSON."""
    trace_file = trace_file_processor(trace_out) if trace_out is not None else None
    if trace_file is not None:
        configure_tracing(extra_processors=(trace_file,))
    home = (base.home / "demo").resolve()
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    flows = demo_flows()
    server = None
    try:
        for flow in flows:
            await flow.start(home)
        app = create_app(_demo_settings(base, home, flows))
        server = await start_server(app)
        names = ", ".join(flow.name for flow in flows)
        print(f"casegate demo: gateway {server.base_url}, {count} cases through {names}")
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as api:
            token = await dev_token(api, home, "cases:read cases:write")
            api.headers["Authorization"] = f"Bearer {token}"
            runtime: Runtime = app.state["runtime"]
            contexts = [
                DemoContext(api, server.base_url, runtime, home, share, concurrency)
                for share in _shares(count, flows)
            ]
            started = time.monotonic()
            results = await asyncio.gather(
                *(flow.run(ctx) for flow, ctx in zip(flows, contexts, strict=True))
            )
            tally = FlowResult()
            for result in results:
                tally.accepted.update(result.accepted)
                tally.refused += result.refused
            submitted = time.monotonic() - started
            _progress(f"submitted {len(tally.accepted)} in {submitted:.1f}s")
            found = await _wait_until_settled(api, tally)
            elapsed = time.monotonic() - started
            async with runtime.store.connect() as conn:
                stats = await outbox.queue_stats(conn)
            trace_id = None
            if tally.accepted:
                events = (await api.get(f"/v1/cases/{next(iter(tally.accepted))}/events")).json()
                trace_id = events[0]["data"].get("trace_id")
            flow_lines = [
                line
                for flow, ctx in zip(flows, contexts, strict=True)
                for line in await flow.report(ctx)
            ]
        return _report(
            tally,
            found=found,
            elapsed=elapsed,
            submitted=submitted,
            dead=stats.dead,
            trace_id=trace_id,
            flow_lines=flow_lines,
        )
    finally:
        if server is not None:
            await server.stop()
        for flow in flows:
            await flow.stop()
        if trace_file is not None:
            trace_file.shutdown()
            print(f"spans written to {trace_out} (OTLP/JSON)")


def _report(
    tally: FlowResult,
    *,
    found: dict[str, dict[str, Any]],
    elapsed: float,
    submitted: float,
    dead: int,
    trace_id: str | None,
    flow_lines: list[str],
) -> int:
    mine = [found[cid] for cid in tally.accepted if cid in found]
    lost = len(tally.accepted) - len(mine)
    unsettled = sum(1 for case in mine if case["status"] not in SETTLED)
    by_status = Counter(case["status"] for case in mine)
    by_route = Counter(case.get("route") or "(none)" for case in mine)
    times = [_seconds(c["created_at"], c["decided_at"]) for c in mine if c.get("decided_at")]
    print("\ncases by status:")
    for status, n in sorted(by_status.items()):
        print(f"  {status:<22}{n:>6}")
    print("cases by route:")
    for route, n in sorted(by_route.items()):
        print(f"  {route:<22}{n:>6}")
    print(f"accepted: {len(tally.accepted)}  refused: {tally.refused}")
    print(f"intake: {len(tally.accepted) / submitted:.0f} cases/s")
    print(f"throughput to settled: {len(mine) / elapsed:.0f} cases/s")
    print(f"time to decision: p50 {_percentile(times, 50):.2f}s  p95 {_percentile(times, 95):.2f}s")
    for line in flow_lines:
        print(line)
    print(f"dead letters: {dead}")
    print(f"unsettled: {unsettled}")
    print(f"lost: {lost}")
    print(f"trace id of case {next(iter(tally.accepted), '-')}: {trace_id}")
    return lost + unsettled
