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


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Throughput:
    """Medians over rounds of one server: requests/s, and latency percentiles in seconds."""

    rate: float
    p50: float
    p99: float
    rounds: int
    client_cpu_share: float
    server_cpu_per_request: float | None
    server_cpu_share: float | None

    @classmethod
    def of(cls, rounds: Sequence[RoundResult]) -> Throughput:
        if not rounds:
            raise ValueError("a figure needs at least one round")
        per_request = [r.server_cpu_per_request for r in rounds]
        busy = [r.server_cpu_share for r in rounds]
        return cls(
            rate=statistics.median(r.rate for r in rounds),
            p50=statistics.median(percentile(r.latencies, 50) for r in rounds),
            p99=statistics.median(percentile(r.latencies, 99) for r in rounds),
            rounds=len(rounds),
            client_cpu_share=max(r.client_cpu_share for r in rounds),
            server_cpu_per_request=_median_of_known(per_request),
            server_cpu_share=_median_of_known(busy),
        )


def _median_of_known(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline > 0 else math.inf


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def verdict(passed: bool) -> str:
    return "meets target" if passed else "MISSES target"
