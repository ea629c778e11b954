"""Where a gateway process spends its CPU, sampled with py-spy from outside the process.

A sampler outside the process leaves the gateway's code and timing alone, sees every thread
(and the greenlets SQLAlchemy runs its statements in), and, with `--gil`, counts only samples
that hold the GIL: CPU spent in Python, not waiting. Each sample is charged to the innermost
frame that names a stage of the request path, so a JSON dump inside a SQL bind counts as SQL
and a validator inside request validation counts as validation.

A garbage collection runs inside whatever allocation triggered it, and a sampler would charge
its pause to that frame; so the collector is switched off in the gateway while it is sampled,
and its share is reported from its own clock instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Self

SAMPLES_PER_SECOND = 200
ATTACH_SECONDS = 1.0
PY_SPY_FALLBACK = Path("/root/.pyenv/shims/py-spy")

# (stage, substrings of a py-spy frame "function (file:line)"). For each frame, from the
# innermost out, the first stage listed that matches wins: our own steps are listed before the
# libraries they call into, so a guard in Litestar's code still counts as a guard.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("auth middleware: token check, rate limit", ("BearerTokenMiddleware.",)),
    ("route guards (Litestar copies the handler per guard)", ("authorize_connection (",)),
    ("intake: request validation (pydantic + code checks)", ("model_validate_json (",)),
    ("intake: building the records (accepted_case)", ("accepted_case (",)),
    ("intake: group commit writer, outside SQL", ("GroupCommitter.",)),
    ("intake handler, rest", ("_intake_handler.<locals>.submit (",)),
    ("case API (list, read)", ("list_cases (gateway/api", "read_case (gateway/api")),
    ("worker: payer decision parsing", ("parse_decision (",)),
    ("worker: connector send (mapping, auth)", ("PayerRestConnector.", "HttpConnector.")),
    ("worker: outcome recorder, outside SQL", ("OutcomeRecorder.",)),
    ("worker: poll loop, claims, case loads", ("OutboxWorker.run (", "claim_jobs (")),
    ("worker: job processing, rest", ("OutboxWorker.",)),
    (
        "tracing and metrics (OpenTelemetry)",
        (
            "(gateway/request_tracing.py",
            "(gateway/telemetry.py",
            "(gateway/metrics.py",
            "(trace/__init__.py",
            "(asgi/__init__.py",
            "(attributes/__init__.py",
            "(opentelemetry/",
        ),
    ),
    ("SQL: SQLAlchemy compile, bind, rows", ("(sqlalchemy/",)),
    ("SQL: SQLite calls (aiosqlite thread)", ("(aiosqlite/",)),
    ("SQL: PostgreSQL driver (asyncpg)", ("(asyncpg/",)),
    ("HTTP client (httpx, httpcore)", ("(httpx/", "(httpcore/")),
    ("Litestar: routing, parameters, responses", ("(litestar/",)),
    ("HTTP server (uvicorn, httptools)", ("(uvicorn/",)),
)
OTHER = "other (event loop, stdlib)"


def find_py_spy() -> str | None:
    found = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if found:
        return found
    return str(PY_SPY_FALLBACK) if PY_SPY_FALLBACK.exists() else None


class PySpySampler:
    """`py-spy record --gil` on `pid` while the block runs; raw collapsed stacks to `output`."""

    def __init__(self, py_spy: str, pid: int, output: Path) -> None:
        self._command = [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(SAMPLES_PER_SECOND),
            "--gil",
            "--format",
            "raw",
            "--output",
            str(output),
        ]
        self._log = output.with_suffix(".log")
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(self._command, stdout=log, stderr=subprocess.STDOUT)
        time.sleep(ATTACH_SECONDS)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _stage_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for stage, markers in STAGES:
            if any(marker in frame for marker in markers):
                return stage
    return OTHER


def breakdown(raw: Path, top: int = 10) -> list[str]:
    """The share of samples per stage, then the functions with the most samples of their own."""
    stages: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        stages[_stage_of(frames)] += int(count)
        leaves[frames[-1]] += int(count)
    total = sum(stages.values())
    if not total:
        return [f"    no samples in {raw} (see {raw.with_suffix('.log')})"]
    lines = [f"    CPU by stage, collector off ({total} samples holding the GIL, {raw}):"]
    lines += [f"      {n / total:6.1%}  {stage}" for stage, n in stages.most_common()]
    lines.append("    functions with the most samples of their own:")
    lines += [f"      {n / total:6.1%}  {frame}" for frame, n in leaves.most_common(top)]
    return lines
