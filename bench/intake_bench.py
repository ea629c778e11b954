"""Durable intake against the bare baseline: same body, same generator, alternating rounds.

Rounds alternate which server goes first, so a neighbour's burst on the shared machine lands on
both sides as often as not; a warm-up round of each is run first and discarded (first
connections, SQLite's first checkpoint, PostgreSQL's cold caches).
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from bench.figures import MeasuredRound, Throughput, microseconds, milliseconds, ratio, verdict
from bench.gateway_setup import access_token, example_body, intake_requests
from bench.loadgen import run_round
from bench.profiling import PySpySampler
from bench.server_process import ServerProcess
from gateway.settings import Settings

ACCEPTED = 202
TARGET_RATIO = 0.5
TARGET_P99_SECONDS = 0.030
PROFILED_REQUESTS = 6000


@dataclass(frozen=True)
class IntakePlan:
    rounds: int
    requests_per_round: int
    connections: int
    round_time_limit: float
    profile_dir: Path | None
    py_spy: str | None


@dataclass(frozen=True)
class IntakeComparison:
    bare: Throughput
    gateway: Throughput
    bare_unexpected: dict[int, int]
    gateway_unexpected: dict[int, int]
    profile: Path | None

    @property
    def throughput_ratio(self) -> float:
        return ratio(self.gateway.rate, self.bare.rate)

    def lines(self) -> list[str]:
        b, g = self.bare, self.gateway
        lines = [
            f"  bare Litestar   {b.rate:8.0f} req/s   p50 {milliseconds(b.p50):>9}"
            f"   p99 {milliseconds(b.p99):>9}",
            f"  casegate        {g.rate:8.0f} req/s   p50 {milliseconds(g.p50):>9}"
            f"   p99 {milliseconds(g.p99):>9}",
            f"  RATIO casegate/bare: throughput {self.throughput_ratio:.2f}"
            f" ({verdict(self.throughput_ratio >= TARGET_RATIO)} >= {TARGET_RATIO}),"
            f" p50 x{ratio(g.p50, b.p50):.2f}, p99 x{ratio(g.p99, b.p99):.2f}",
            f"  casegate p99 {milliseconds(g.p99)} ({verdict(g.p99 < TARGET_P99_SECONDS)}"
            f" < {milliseconds(TARGET_P99_SECONDS)})",
        ]
        if b.server is not None and g.server is not None:
            bs, gs = b.server, g.server
            lines += [
                f"  server CPU per request: bare {microseconds(bs.cpu_per_request)},"
                f" casegate {microseconds(gs.cpu_per_request)}"
                f" (x{ratio(gs.cpu_per_request, bs.cpu_per_request):.2f}); servers busy"
                f" {bs.busy_share:.0%} / {gs.busy_share:.0%} of a core, load generator at most"
                f" {max(b.client_cpu_share, g.client_cpu_share):.0%}",
                f"  garbage collection: bare {bs.gc_share:.0%} of the round, casegate"
                f" {gs.gc_share:.0%} ({gs.full_collections:.0f} full collections per round,"
                f" {milliseconds(gs.full_collection_pause)} each, every request in flight waits)",
            ]
        for name, unexpected in (
            ("bare", self.bare_unexpected),
            ("casegate", self.gateway_unexpected),
        ):
            if unexpected:
                lines.append(f"  WARNING {name} answered other than 202: {dict(unexpected)}")
        if self.profile is not None:
            lines.append(
                f"  py-spy over one extra casegate round of {PROFILED_REQUESTS} requests"
                " (not in the figures):"
            )
        return lines


async def _round(server: ServerProcess, token: str, body: bytes, plan: IntakePlan) -> MeasuredRound:
    # Keys are unique across rounds and runs: every request opens a new case.
    prefix = f"bench-{secrets.token_hex(6)}"
    requests = intake_requests(server.port, token, [body] * plan.requests_per_round, prefix)
    before = server.usage()
    result = await run_round(
        server.port, requests, connections=plan.connections, time_limit=plan.round_time_limit
    )
    after = server.usage()
    return MeasuredRound(result, None if before is None or after is None else after - before)


async def compare_intake(
    bare: ServerProcess, gateway: ServerProcess, settings: Settings, plan: IntakePlan, label: str
) -> IntakeComparison:
    token = access_token(settings)
    body = example_body()
    await _round(bare, token, body, plan)
    await _round(gateway, token, body, plan)
    bare_rounds: list[MeasuredRound] = []
    gateway_rounds: list[MeasuredRound] = []
    for index in range(plan.rounds):
        order = [(bare, bare_rounds), (gateway, gateway_rounds)]
        for server, results in order if index % 2 == 0 else reversed(order):
            results.append(await _round(server, token, body, plan))
    profile = None
    if plan.profile_dir is not None and plan.py_spy is not None:
        profile = plan.profile_dir / f"intake-{label}.txt"
        with gateway.collector_off(), PySpySampler(plan.py_spy, gateway.pid, profile):
            await _round(gateway, token, body, replace(plan, requests_per_round=PROFILED_REQUESTS))
    return IntakeComparison(
        bare=Throughput.of(bare_rounds),
        gateway=Throughput.of(gateway_rounds),
        bare_unexpected=_unexpected(bare_rounds),
        gateway_unexpected=_unexpected(gateway_rounds),
        profile=profile,
    )


def _unexpected(rounds: list[MeasuredRound]) -> dict[int, int]:
    total: Counter[int] = Counter()
    for measured in rounds:
        total.update(measured.result.unexpected(ACCEPTED))
    return dict(total)
