"""FHIR PAS figures: reading a PAS request Bundle into a validated canonical case, and writing
one, each against the fhir.resources R4B models on the same bundles in the same run.

`run()` returns (name, ratio, note) rows for `python -m bench`:
- PAS request Bundle bytes -> validated canonical case (JSON parse, FHIR R4 structure as
  strict as the R4B models, PAS rules, the canonical contract) per second, as a ratio over
  `Bundle.model_validate_json` of the same bytes, which checks structure only (goal >= 3x;
  `tests/mappings/fhir_pas/test_pas_structure.py` shows every bundle of a mutated set that
  the models refuse is refused by this path too);
- canonical case -> PAS request Bundle JSON per second (mapping, the same checks, then
  `json.dumps`), as a ratio over building the same JSON through the R4B models
  (`Bundle.model_validate` then `model_dump_json`).
Run alone: `uv run python -m bench.fhir_bench`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from canonical.cases import PriorAuthorizationRequest
from mappings.fhir_pas.request_builder import build_request_bundle
from mappings.fhir_pas.request_reader import read_request_bundle_leniently

GOLDEN = Path(__file__).parents[1] / "tests" / "mappings" / "fhir_pas" / "golden"
NAMES = ("prior-authorization", "dependent-drug-attachment")
ROUNDS = 6
ROUND_SECONDS = 0.5
CREATED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _rates(baseline: Callable[[], Any], ours: Callable[[], Any]) -> tuple[float, float]:
    """Calls per second of each, the best of ROUNDS rounds of about ROUND_SECONDS; the rounds
    alternate, so a neighbour's load on the machine falls on both alike."""
    best = [0.0, 0.0]
    for _ in range(ROUNDS):
        for position, work in enumerate((baseline, ours)):
            calls = 0
            started = time.perf_counter()
            while (elapsed := time.perf_counter() - started) < ROUND_SECONDS:
                work()
                calls += 1
            best[position] = max(best[position], calls / elapsed)
    return best[0], best[1]


def _cycle(items: list[Any], action: Callable[[Any], Any]) -> Callable[[], Any]:
    position = 0

    def step() -> Any:
        nonlocal position
        position = (position + 1) % len(items)
        return action(items[position])

    return step


def _read(raw: bytes) -> dict[str, Any]:
    read = read_request_bundle_leniently(json.loads(raw, parse_float=Decimal))
    assert not read.findings
    return read.payload


def _write(request: PriorAuthorizationRequest) -> bytes:
    bundle = build_request_bundle("case-bench", request, created=CREATED)
    return json.dumps(bundle, separators=(",", ":")).encode()


def _write_with_models(request: PriorAuthorizationRequest) -> bytes:
    bundle = build_request_bundle("case-bench", request, created=CREATED)
    return Bundle.model_validate(bundle).model_dump_json().encode()


def run() -> list[tuple[str, float, str]]:
    bundles = [(GOLDEN / f"{name}.bundle.json").read_bytes() for name in NAMES]
    requests = [
        PriorAuthorizationRequest.model_validate_json((GOLDEN / f"{name}.case.json").read_bytes())
        for name in NAMES
    ]
    for raw in bundles:
        Bundle.model_validate_json(raw)  # both paths take the same bundles
        _read(raw)
    models_read, ours_read = _rates(
        _cycle(bundles, Bundle.model_validate_json), _cycle(bundles, _read)
    )
    models_write, ours_write = _rates(
        _cycle(requests, _write_with_models), _cycle(requests, _write)
    )
    sizes = "/".join(f"{len(raw) / 1024:.0f}" for raw in bundles)
    return [
        (
            "PAS request Bundle -> validated canonical case (vs R4B model_validate_json)",
            ours_read / models_read,
            f"{ours_read:,.0f}/s vs {models_read:,.0f}/s on {sizes} KiB bundles; goal >= 3x",
        ),
        (
            "canonical case -> PAS request Bundle JSON (vs the same through the R4B models)",
            ours_write / models_write,
            f"{ours_write:,.0f}/s vs {models_write:,.0f}/s",
        ),
    ]


if __name__ == "__main__":
    for figure, ratio, note in run():
        print(f"{figure}: {ratio:.1f}x  ({note})")
