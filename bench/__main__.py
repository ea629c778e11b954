"""`python -m bench`: durable intake on SQLite and on PostgreSQL against a bare Litestar
endpoint, a backlog end to end against the same cases sent straight to the payer, and policy
decisions against a plain loop over the same table.

Every section bounds its requests and its time; servers are child processes on 127.0.0.1 and
are stopped on the way out, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import platform
import sys
import time
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from bench.end_to_end import EndToEndPlan, compare_end_to_end
from bench.gateway_setup import BENCH_ROOT, fresh_home, gateway_settings
from bench.intake_bench import IntakePlan, compare_intake
from bench.postgres import DEFAULT_URL, fresh_schema, is_loopback, unreachable_reason
from bench.profiling import breakdown, find_py_spy
from bench.server_process import ServedApp, ServerProcess, loop_name

# Sections that measure in process: `--only NAME` -> (heading, module with `run()` returning
# (figure, ratio, note) rows). Imported only when asked, since some build large inputs.
RATIO_SECTIONS: dict[str, tuple[str, str]] = {
    "policy": (
        "Policy decisions against a 5,000-row payer table, and its hot reload",
        "bench.policy_bench",
    ),
    "events": (
        "Webhook events: throughput, and decision -> delivery delay beside a slow subscriber",
        "bench.events_bench",
    ),
    "hl7": ("HL7 v2: ORM^O01 over MLLP to a durable case, and the codec", "bench.hl7_bench"),
    "x12": ("X12: 278/271/835 read to canonical, and a 100 MB 835 streamed", "bench.x12_bench"),
    "fhir": ("FHIR PAS: request Bundle to validated case, and case to Bundle", "bench.fhir_bench"),
}
SECTIONS = ("sqlite", "postgres", "end-to-end", *RATIO_SECTIONS)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per intake figure")
    parser.add_argument("--requests", type=int, default=2000, help="requests per intake round")
    parser.add_argument("--round-seconds", type=float, default=15.0, help="time limit per round")
    parser.add_argument("--connections", type=int, default=50, help="concurrent clients")
    parser.add_argument("--cases", type=int, default=5000, help="cases end to end")
    parser.add_argument(
        "--decision-seconds", type=float, default=150.0, help="time limit for each end-to-end pass"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_URL),
        help="a server on 127.0.0.1; a fresh schema is made in it and dropped after",
    )
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only these")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="also sample one extra, unmeasured pass of each gateway with py-spy, keep the "
        "stacks in DIR and print where the CPU went",
    )
    args = parser.parse_args(argv)
    if not is_loopback(args.postgres_url):
        parser.error("--postgres-url must point at 127.0.0.1: the benchmarks stay on this machine")
    args.py_spy = None
    if args.profile is not None:
        args.py_spy = find_py_spy()
        if args.py_spy is None:
            parser.error("--profile needs py-spy on PATH (or in the PY_SPY variable)")
    for name in ("rounds", "requests", "connections", "cases"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    for name in ("round_seconds", "decision_seconds"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def _say(line: str = "") -> None:
    print(line, flush=True)


def _header(args: argparse.Namespace) -> None:
    _say(
        f"casegate benchmarks: Python {platform.python_version()}, {os.cpu_count()} CPUs,"
        f" litestar {version('litestar')}, uvicorn {version('uvicorn')}"
    )
    _say(
        f"load: a raw asyncio HTTP/1.1 keep-alive client (bench/loadgen.py) in this process,"
        f" {args.connections} connections, requests pre-built as bytes;"
    )
    _say(
        f"      every server in a child process of its own (uvicorn, {loop_name()}),"
        " so the client and the server each get a core"
    )
    _say(
        f"figures: median of {args.rounds} rounds x {args.requests} requests (each round at most"
        f" {args.round_seconds:.0f} s, after one warm-up round), as RATIOS to a baseline"
        " measured in this run"
    )


def _profile_lines(path: Path | None) -> None:
    if path is not None:
        for line in breakdown(path):
            _say(line)


async def _intake_sections(args: argparse.Namespace, wanted: set[str]) -> None:
    plan = IntakePlan(
        rounds=args.rounds,
        requests_per_round=args.requests,
        connections=args.connections,
        round_time_limit=args.round_seconds,
        profile_dir=args.profile,
        py_spy=args.py_spy,
    )
    with ServerProcess(ServedApp("bare")) as bare:
        if "sqlite" in wanted:
            _say()
            _say("[1] Durable intake on SQLite (WAL, synchronous=FULL), workers off")
            settings = gateway_settings(fresh_home("intake-sqlite"))
            with ServerProcess(ServedApp("gateway", settings)) as gateway:
                result = await compare_intake(bare, gateway, settings, plan, "sqlite")
            for line in result.lines():
                _say(line)
            _profile_lines(result.profile)
        if "postgres" in wanted:
            _say()
            _say("[2] Durable intake on PostgreSQL (synchronous_commit=on), workers off")
            reason = await unreachable_reason(args.postgres_url)
            if reason is not None:
                _say(
                    f"  !!!!! SKIPPED: PostgreSQL at 127.0.0.1 is unreachable ({reason});"
                    " no PostgreSQL figure in this run !!!!!"
                )
                return
            async with fresh_schema(args.postgres_url) as url:
                settings = gateway_settings(fresh_home("intake-postgres"), database_url=url)
                with ServerProcess(ServedApp("gateway", settings)) as gateway:
                    result = await compare_intake(bare, gateway, settings, plan, "postgres")
            for line in result.lines():
                _say(line)
            _profile_lines(result.profile)


async def _end_to_end_section(args: argparse.Namespace) -> None:
    _say()
    _say(
        f"[3] End to end: {args.cases} cases through intake, in-process workers and the payer"
        " REST sandbox (own process) to a decision, SQLite store"
    )
    _say(
        "  baseline: the same cases POSTed straight to the sandbox with httpx, as many at once"
        " as the gateway's workers, pended ones inquired after the same wait"
    )
    plan = EndToEndPlan(
        cases=args.cases,
        connections=args.connections,
        time_limit=args.decision_seconds,
        profile_dir=args.profile,
        py_spy=args.py_spy,
    )
    result = await compare_end_to_end(plan)
    for line in result.lines():
        _say(line)
    _profile_lines(result.profile)


def _ratio_section(number: int, name: str) -> None:
    heading, module_name = RATIO_SECTIONS[name]
    _say()
    _say(f"[{number}] {heading}")
    module = importlib.import_module(module_name)
    for figure, ratio, note in module.run():
        _say(f"  {figure}: x{ratio:.2f}  ({note})")


async def _run(args: argparse.Namespace) -> None:
    wanted = set(args.only or SECTIONS)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    _header(args)
    if wanted & {"sqlite", "postgres"}:
        await _intake_sections(args, wanted)
    if "end-to-end" in wanted:
        await _end_to_end_section(args)
    for number, name in enumerate(RATIO_SECTIONS, start=4):
        if name in wanted:
            # In a thread: a section may run its own event loop (asyncio.run) inside run().
            await asyncio.to_thread(_ratio_section, number, name)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    started = time.monotonic()
    try:
        import uvloop  # noqa: PLC0415 - the generator's loop; optional, as for uvicorn
    except ImportError:
        asyncio.run(_run(args))
    else:
        uvloop.run(_run(args))
    _say()
    _say(f"done in {time.monotonic() - started:.0f} s; databases under {BENCH_ROOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
