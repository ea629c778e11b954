"""Summaries of rounds and the lines that print them.

A figure is the median over rounds, never the best round: on a shared machine the best round
is the one where the neighbours happened to be idle.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.loadgen import RoundResult
from bench.server_process import ServerUsage


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class MeasuredRound:
    """A round as the client saw it, and what the server spent on it (None without /proc)."""

    result: RoundResult
    server: ServerUsage | None


@dataclass(frozen=True)
class ServerCost:
    """Medians over rounds of what one request cost the server process."""

    cpu_per_request: float
    busy_share: float
    gc_share: float
    full_collections: float
    full_collection_pause: float


@dataclass(frozen=True)
class Throughput:
    """Medians over rounds of one server: requests/s, and latency percentiles in seconds."""

    rate: float
    p50: float
    p99: float
    rounds: int
    client_cpu_share: float
    server: ServerCost | None

    @classmethod
    def of(cls, rounds: Sequence[MeasuredRound]) -> Throughput:
        if not rounds:
            raise ValueError("a figure needs at least one round")
        results = [r.result for r in rounds]
        return cls(
            rate=statistics.median(r.rate for r in results),
            p50=statistics.median(percentile(r.latencies, 50) for r in results),
            p99=statistics.median(percentile(r.latencies, 99) for r in results),
            rounds=len(rounds),
            client_cpu_share=max(r.client_cpu_share for r in results),
            server=_server_cost(rounds),
        )


def _server_cost(rounds: Sequence[MeasuredRound]) -> ServerCost | None:
    known = [(r.result, r.server) for r in rounds if r.server is not None and r.result.completed]
    if not known:
        return None
    return ServerCost(
        cpu_per_request=statistics.median(u.cpu_seconds / r.completed for r, u in known),
        busy_share=statistics.median(u.cpu_seconds / r.elapsed for r, u in known),
        gc_share=statistics.median(u.gc_seconds / r.elapsed for r, u in known),
        full_collections=statistics.median(u.full_collections for _, u in known),
        full_collection_pause=statistics.median(
            u.full_collection_seconds / u.full_collections if u.full_collections else 0.0
            for _, u in known
        ),
    )


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline > 0 else math.inf


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def microseconds(seconds: float) -> str:
    return f"{seconds * 1_000_000:.0f} us"


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def verdict(passed: bool) -> str:
    return "meets target" if passed else "MISSES target"
