"""End to end: a backlog through intake, the in-process workers and the payer sandbox to a
decision, against the same cases sent straight to the payer.

The gateway's figures come from its own records, read back through `GET /v1/cases` pages: the
time to decision is each case's `decided_at` minus its `created_at`, and throughput is the
decided cases over the time from the first submission to the last decision. The direct peer's
clock starts when it holds the whole backlog (it has no intake), so its time to decision also
covers the wait for a free connection, as the gateway's covers the wait in its outbox.

A pass of the whole backlog is long, so neither side runs in rounds: each runs once, the peer
right after the gateway has stopped. Wall-clock figures of a single pass move with the load of
a shared machine, so CPU per case, which contention barely moves, is printed beside them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.figures import milliseconds, percentile, ratio, seconds
from bench.gateway_setup import (
    access_token,
    fresh_home,
    gateway_settings,
    intake_requests,
    json_bodies,
)
from bench.loadgen import run_round
from bench.payer_peer import PeerResult, submissions, submit_directly
from bench.payer_process import CLIENT_ID, PayerProcess
from bench.profiling import PySpySampler
from bench.server_process import ServedApp, ServerProcess, ServerUsage
from gateway.demo.backlog import backlog
from gateway.settings import ConnectorInstance, WorkerSettings

FOLLOW_UP_SECONDS = 1.0
UNDECIDED = ("draft", "submitted", "pended")
POLL_SECONDS = 1.0
PAGE_SIZE = 200
PROFILED_CASES = 1500


@dataclass(frozen=True)
class EndToEndPlan:
    cases: int
    connections: int
    time_limit: float
    profile_dir: Path | None
    py_spy: str | None


@dataclass(frozen=True)
class GatewayRun:
    accepted: int
    refused: dict[int, int]
    intake_rate: float
    decided_after: list[float]
    span_seconds: float
    by_status: dict[str, int]
    timed_out: bool
    server: ServerUsage | None
    server_window: float  # seconds between the two readings of `server`

    @property
    def rate(self) -> float:
        return len(self.decided_after) / self.span_seconds if self.span_seconds > 0 else 0.0


@dataclass(frozen=True)
class EndToEndComparison:
    cases: int
    concurrency: int
    gateway: GatewayRun
    peer: PeerResult
    profile: Path | None

    def lines(self) -> list[str]:
        g, p = self.gateway, self.peer
        g95, p95 = percentile(g.decided_after, 95), percentile(p.decided_after, 95)
        lines = [
            f"  direct to payer {p.rate:8.0f} cases/s   p95 to decision {seconds(p95)}"
            f"   ({self.concurrency} at once; {p.pended} of {p.decided} decided after a pend;"
            f" {dict(p.outcomes)})",
            f"  casegate        {g.rate:8.0f} cases/s   p95 to decision {seconds(g95)}"
            f"   ({len(g.decided_after)} decided; {g.by_status})",
            f"  RATIO casegate/direct: throughput {ratio(g.rate, p.rate):.2f},"
            f" p95 time to decision x{ratio(g95, p95):.2f}",
            f"  casegate intake during the run: {g.intake_rate:.0f} req/s ({g.accepted} accepted)",
        ]
        if g.server is not None and g.decided_after and p.decided:
            cpu, peer_cpu = g.server.cpu_seconds / len(g.decided_after), p.client_cpu / p.decided
            lines += [
                f"  CPU per case: casegate process {milliseconds(cpu)}, direct client"
                f" {milliseconds(peer_cpu)} (x{ratio(cpu, peer_cpu):.2f})",
                f"  casegate process busy {g.server.cpu_seconds / g.server_window:.0%} of a core,"
                f" {g.server.gc_seconds / g.server_window:.0%} in garbage collection"
                f" ({g.server.full_collections} full collections)",
            ]
        if g.refused:
            lines.append(f"  WARNING casegate answered other than 202: {g.refused}")
        if g.timed_out or len(g.decided_after) < self.cases:
            lines.append(
                f"  WARNING casegate decided {len(g.decided_after)} of {self.cases} cases"
                " before the time limit; its figures cover those only"
            )
        if p.timed_out or p.decided < self.cases:
            lines.append(f"  WARNING the direct peer decided {p.decided} of {self.cases} cases")
        if self.profile is not None:
            lines.append(
                f"  py-spy over an extra pass of {PROFILED_CASES} cases (not in the figures):"
            )
        return lines


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


async def _undecided(client: httpx.AsyncClient) -> bool:
    for status in UNDECIDED:
        page = (await client.get("/v1/cases", params={"status": status, "limit": 1})).json()
        if page["items"]:
            return True
    return False


async def _all_cases(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"limit": PAGE_SIZE}
    while True:
        response = await client.get("/v1/cases", params=params)
        response.raise_for_status()
        page = response.json()
        found.extend(page["items"])
        if not page["next_cursor"]:
            return found
        params["cursor"] = page["next_cursor"]


async def _through_gateway(
    gateway: ServerProcess, token: str, bodies: list[bytes], plan: EndToEndPlan
) -> GatewayRun:
    port = gateway.port
    requests = intake_requests(port, token, bodies, f"e2e-{secrets.token_hex(6)}")
    usage_before, read_before = gateway.usage(), time.monotonic()
    started = datetime.now(UTC)
    deadline = time.monotonic() + plan.time_limit
    intake = await run_round(
        port, requests, connections=plan.connections, time_limit=plan.time_limit
    )
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as client:
        timed_out = True
        while time.monotonic() < deadline:
            if not await _undecided(client):
                timed_out = False
                break
            await asyncio.sleep(POLL_SECONDS)
        usage_after, read_after = gateway.usage(), time.monotonic()
        cases = [
            c
            for c in await _all_cases(client)
            if datetime.fromisoformat(c["created_at"]) >= started
        ]
    decided = [c for c in cases if c["decided_at"]]
    last = max((datetime.fromisoformat(c["decided_at"]) for c in decided), default=started)
    return GatewayRun(
        accepted=intake.statuses[202],
        refused=intake.unexpected(202),
        intake_rate=intake.rate,
        decided_after=[_seconds_between(c["created_at"], c["decided_at"]) for c in decided],
        span_seconds=(last - started).total_seconds(),
        by_status=dict(Counter(c["status"] for c in cases)),
        timed_out=timed_out,
        server=None if usage_before is None or usage_after is None else usage_after - usage_before,
        server_window=read_after - read_before,
    )


async def compare_end_to_end(plan: EndToEndPlan) -> EndToEndComparison:
    home = fresh_home("end-to-end")
    cases = backlog(plan.cases)
    bodies = json_bodies(cases)
    with PayerProcess(home) as payer:
        connector = ConnectorInstance(
            kind="payer_rest",
            config={
                "base_url": payer.base_url,
                "auth": {
                    "token_url": f"{payer.base_url}/oauth/token",
                    "client_id": CLIENT_ID,
                    "client_secret": f"file:{payer.secret_file.resolve()}",
                },
            },
        )
        workers = WorkerSettings(in_process=True, pended_follow_up_seconds=FOLLOW_UP_SECONDS)
        settings = gateway_settings(home, workers=workers, connectors={"payer_sandbox": connector})
        token = access_token(settings)
        profile = None
        with ServerProcess(ServedApp("gateway", settings)) as gateway:
            run = await _through_gateway(gateway, token, bodies, plan)
            if plan.profile_dir is not None and plan.py_spy is not None:
                profile = plan.profile_dir / "end-to-end.txt"
                with gateway.collector_off(), PySpySampler(plan.py_spy, gateway.pid, profile):
                    await _through_gateway(gateway, token, bodies[:PROFILED_CASES], plan)
        # The gateway is stopped before the peer runs, so it cannot take the peer's CPU.
        peer = await submit_directly(
            payer.base_url,
            CLIENT_ID,
            payer.client_secret,
            submissions(cases),
            concurrency=workers.concurrency,
            follow_up_seconds=FOLLOW_UP_SECONDS,
            time_limit=plan.time_limit,
        )
    return EndToEndComparison(
        cases=plan.cases, concurrency=workers.concurrency, gateway=run, peer=peer, profile=profile
    )
