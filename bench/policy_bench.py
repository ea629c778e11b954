"""Policy figures: decisions against a 5,000-row payer table, and the hot reload of that pack.

`run()` returns (name, ratio, note) rows for `python -m bench`:
- table decisions per second through the rules engine, as a ratio over a plain Python loop
  that walks the same compiled rows in order (goal: at least 10x);
- the hot reload of the 5,000-row pack file (parse, validate, check every row for overlaps and
  unreachable rows, compile for the engine), as a ratio over only loading its YAML with
  libyaml; the note gives the seconds.
Run alone: `uv run python -m bench.policy_bench`.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from canonical.cases import CaseType
from policies.book import PolicyBook
from policies.code_systems import code_key, code_of_key
from policies.conditions import Column
from policies.decision import PolicyCase
from policies.pack import Pack
from policies.pack_directory import PackDirectory
from policies.pack_schema import TableName

ROWS = 5_000
ROUNDS = 3
ROUND_SECONDS = 1.0
PLACES = ("11", "22", "23")
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FASTEST_YAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _pack_yaml(version: str, rng: random.Random) -> tuple[str, list[str]]:
    """A payer table of single codes, ranges, place-of-service and urgency exceptions."""
    rows: list[str] = []
    codes: list[str] = []
    group = 0
    while len(rows) < ROWS - 1:
        base = 10_000 + group * 10
        code = f"{base:05d}"
        kind = rng.choice(("single", "single", "range", "place", "urgency"))
        outcome = rng.choice(("true", "false"))
        if kind == "range":
            rows.append(_row(f"R{group}", f'"{code}-{base + 4:05d}"', outcome))
        elif kind == "place":
            rows.append(_row(f"P{group}", f'"{code}"', "false", 'place_of_service: ["11"]'))
            rows.append(_row(f"Q{group}", f'"{code}"', "true"))
        elif kind == "urgency":
            rows.append(_row(f"U{group}", f'"{code}"', "true", "urgency: [expedited]"))
            rows.append(_row(f"V{group}", f'"{code}"', "false"))
        else:
            rows.append(_row(f"S{group}", f'"{code}"', outcome))
        codes.append(code)
        group += 1
    rows.append("    - id: NONE\n      then: {required: false}\n      why: Not listed.\n")
    text = (
        f'id: big\npayer: BIGPAYER\nname: Big payer\nversion: "{version}"\ntables:\n'
        "  prior_auth:\n" + "".join(rows) + "  routing:\n    - id: ROUTE\n"
        "      then: {channels: [{channel: x12_278}]}\n      why: Only channel.\n"
    )
    return text, codes


def _row(rule_id: str, codes: str, required: str, extra: str = "") -> str:
    condition = f"procedure: {{cpt: [{codes}]}}" + (f", {extra}" if extra else "")
    return (
        f"    - id: {rule_id}\n      when: {{{condition}}}\n"
        f"      then: {{required: {required}}}\n      why: Listed.\n"
    )


def _plain_rows(pack: Pack) -> list[tuple[list[tuple[float, float]], Any, Any, bool]]:
    """The same rows as plain data: code key spans, place set, urgency set, outcome."""
    plain = []
    for rule in pack.tables[TableName.prior_auth]:
        conditions = {condition.column: condition for condition in rule.conditions}
        codes = (
            list(conditions[Column.procedure].space.spans) if Column.procedure in conditions else []
        )
        places = _labels(conditions, Column.place_of_service)
        urgencies = _labels(conditions, Column.urgency)
        plain.append((codes, places, urgencies, rule.then.required))
    return plain


def _labels(conditions: dict[Column, Any], column: Column) -> set[str] | None:
    if column not in conditions:
        return None
    return {label.strip('"') for label in conditions[column].unary.split(", ")}


def _plain_loop(rows: list[tuple[list[tuple[float, float]], Any, Any, bool]]) -> Callable[..., Any]:
    def decide(code: str, place: str, urgency: str) -> bool:
        key = code_key(code)
        for spans, places, urgencies, required in rows:
            if spans and not any(low <= key < high for low, high in spans):
                continue
            if places is not None and place not in places:
                continue
            if urgencies is not None and urgency not in urgencies:
                continue
            return required
        raise AssertionError("the table ends with a catch-all")

    return decide


def _engine(pack: Pack) -> Callable[..., Any]:
    rules = pack.tables[TableName.prior_auth]

    def decide(code: str, place: str, urgency: str) -> bool:
        facts = pack.engine.line_facts(
            {
                "case_type": "prior_authorization",
                "urgency": urgency,
                "procedure": code,
                "place_of_service": place,
                "drug_class": None,
                "units": 1.0,
                "has_drug": False,
            }
        )
        (position,) = pack.engine.hits(TableName.prior_auth, facts)
        return bool(rules[position].then.required)

    return decide


def _rate(decide: Callable[..., Any], lines: list[tuple[str, str, str]]) -> float:
    """Median decisions per second over rounds of about ROUND_SECONDS each."""
    rates = []
    for _ in range(ROUNDS):
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < ROUND_SECONDS:
            for line in lines:
                decide(*line)
            done += len(lines)
        rates.append(done / (time.perf_counter() - started))
    return statistics.median(rates)


def _full_decisions(book: PolicyBook, lines: list[tuple[str, str, str]]) -> float:
    cases = [
        PolicyCase.of(
            CaseType.prior_authorization,
            {
                "urgency": urgency,
                "patient": {"given": "A", "family": "B", "birth_date": "1970-01-01"},
                "coverage": {"member_id": "M1"},
                "payer": {"id": "BIGPAYER", "name": "Big payer"},
                "requesting_provider": {"npi": "1260181593", "name": "Clinician"},
                "diagnoses": [{"code": "M17.11"}],
                "service_lines": [
                    {
                        "sequence": 1,
                        "procedure_code": code,
                        "place_of_service": place,
                        "service_period": {"start": "2026-04-06"},
                    }
                ],
            },
            RECEIVED,
        )
        for code, place, urgency in lines[:500]
    ]
    started = time.perf_counter()
    for case in cases:
        book.decide(case)
    return len(cases) / (time.perf_counter() - started)


def _hot_reload(folder: Path, rng: random.Random) -> tuple[float, float]:
    """Median seconds of a hot reload after an edit, and of only parsing the same YAML."""
    path = folder / "big.yaml"
    packs = PackDirectory([folder])
    reloads, parses = [], []
    for attempt in range(ROUNDS + 1):
        text, _ = _pack_yaml(f"1.{attempt}", rng)
        path.write_text(text)
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + (attempt + 1) * 10**9))
        started = time.perf_counter()
        report = packs.reload()
        elapsed = time.perf_counter() - started
        if report.refused:
            raise RuntimeError(str(report.refused[0]))
        if attempt:  # the first is a cold load, not a hot reload
            reloads.append(elapsed)
            started = time.perf_counter()
            yaml.load(text, Loader=FASTEST_YAML)
            parses.append(time.perf_counter() - started)
    return statistics.median(reloads), statistics.median(parses)


def run() -> list[tuple[str, float, str]]:
    rng = random.Random(2026)  # reproducible tables and cases
    with tempfile.TemporaryDirectory(prefix="casegate-policy-bench-") as name:
        folder = Path(name)
        reload_seconds, parse_seconds = _hot_reload(folder, rng)
        packs = PackDirectory([folder])
        packs.reload()
        pack = packs.book.pack_for("BIGPAYER")
        listed = [
            code_of_key(int(condition.space.spans[0][0]))
            for rule in pack.tables[TableName.prior_auth]
            for condition in rule.conditions
            if condition.column is Column.procedure
        ]
        unlisted = [f"{n:05d}" for n in range(90_000, 90_100)]
        codes = listed + unlisted[: len(listed) // 10]
        lines = [
            (rng.choice(codes), rng.choice(PLACES), rng.choice(("standard", "expedited")))
            for _ in range(2_000)
        ]
        plain, engine = _plain_loop(_plain_rows(pack)), _engine(pack)
        assert [plain(*line) for line in lines] == [engine(*line) for line in lines]
        plain_rate, engine_rate = _rate(plain, lines), _rate(engine, lines)
        full_rate = _full_decisions(packs.book, lines)
    rows = len(pack.tables[TableName.prior_auth])
    return [
        (
            f"policy decisions, {rows}-row payer table (zen vs plain loop)",
            engine_rate / plain_rate,
            f"zen {engine_rate:,.0f}/s vs plain Python loop {plain_rate:,.0f}/s per service"
            f" line; full decide() of a case {full_rate:,.0f}/s; goal >= 10x",
        ),
        (
            f"policy pack hot reload, {rows} rows (vs parsing its YAML only)",
            reload_seconds / parse_seconds,
            f"hot reload {reload_seconds:.2f} s (validate, overlap and reachability checks,"
            f" compile) vs loading the YAML alone with libyaml {parse_seconds:.2f} s",
        ),
    ]


if __name__ == "__main__":
    for figure, ratio, note in run():
        print(f"{figure}: {ratio:.1f}x  ({note})")
