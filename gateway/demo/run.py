"""The demo: gateway, workers and the payer sandbox in one process on loopback, a synthetic
backlog submitted through the real HTTP API with a real token, and a summary at the end."""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from connectors.payer_rest.sandbox import PayerRestSandbox
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.payer_rest.sandbox_rules import Rule
from connectors.secrets import SecretRef
from gateway.app import create_app
from gateway.auth.keys import dev_client
from gateway.demo.backlog import backlog
from gateway.runtime import Runtime
from gateway.serving import start_server
from gateway.settings import ConnectorInstance, Route, Settings
from gateway.span_export import trace_file_processor
from gateway.store import outbox
from gateway.telemetry import configure_tracing

SETTLED = {"approved", "partially_approved", "denied", "pended", "more_info_requested"}
WAIT_SECONDS = 300.0
DEMO_CLIENT_ID = "casegate-demo"


@dataclass
class Tally:
    accepted: dict[str, float] = field(default_factory=dict)
    refused: int = 0


def _demo_rules() -> list[Rule]:
    """A payer that approves most requests, denies one service, pends imaging for review and
    cuts a drug's units."""
    return [
        Rule(
            procedure_code="43644",
            decide="deny",
            reason_code="N",
            reason_text="Not medically necessary per plan criteria",
        ),
        Rule(procedure_code="70553", decide="pend", then="approve", decide_after_inquiries=1),
        Rule(procedure_code="72148", decide="pend", then="approve", decide_after_inquiries=1),
        Rule(procedure_code="J9035", decide="partial", approved_units=Decimal(2)),
    ]


def _demo_settings(base: Settings, home: Path, payer_url: str, secret_file: Path) -> Settings:
    return base.model_copy(
        update={
            "home": home,
            "log_level": "WARNING",  # the summary is the demo's output; warnings still show
            "database_url": base.database_url,
            "connectors": {
                "payer_sandbox": ConnectorInstance(
                    kind="payer_rest",
                    config={
                        "base_url": payer_url,
                        "auth": {
                            "token_url": f"{payer_url}/oauth/token",
                            "client_id": DEMO_CLIENT_ID,
                            "client_secret": f"file:{secret_file}",
                        },
                    },
                )
            },
            "routes": [Route(payer="*", connector="payer_sandbox")],
            "workers": base.workers.model_copy(update={"pended_follow_up_seconds": 1.0}),
        }
    )


async def _token(client: httpx.AsyncClient, home: Path) -> str:
    dev = dev_client(home)
    assert dev.secret is not None
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "cases:read cases:write"},
        auth=(dev.client_id, dev.secret.resolve()),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def _submit(
    client: httpx.AsyncClient, cases: list[dict[str, Any]], concurrency: int, tally: Tally
) -> None:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for case in cases:
        queue.put_nowait(case)

    async def sender() -> None:
        while not queue.empty():
            case = queue.get_nowait()
            response = await client.post(
                "/v1/prior-authorizations",
                json=case,
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            if response.status_code == 202:
                tally.accepted[response.json()["id"]] = time.monotonic()
            else:
                tally.refused += 1

    await asyncio.gather(*(sender() for _ in range(concurrency)))


async def _all_cases(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/cases", params=params)).json()
        found.update({item["id"]: item for item in page["items"]})
        cursor = page["next_cursor"]
        if not cursor:
            return found


def _progress(text: str) -> None:
    sys.stderr.write(f"\r{text:<78}")
    sys.stderr.flush()


async def _wait_until_settled(client: httpx.AsyncClient, tally: Tally) -> dict[str, dict[str, Any]]:
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
    secret_file = home / "payer-client-secret"
    secret_file.write_text(uuid.uuid4().hex)
    secret_file.chmod(0o600)
    client = SandboxClient(client_id=DEMO_CLIENT_ID, client_secret=SecretRef(f"file:{secret_file}"))
    sandbox = PayerRestSandbox(rules=_demo_rules(), clients=[client])
    payer_url = sandbox.start()
    settings = _demo_settings(base, home, payer_url, secret_file)
    app = create_app(settings)
    server = await start_server(app)
    print(f"casegate demo: gateway {server.base_url}, payer sandbox {payer_url}, {count} cases")
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as api:
            api.headers["Authorization"] = f"Bearer {await _token(api, home)}"
            tally = Tally()
            started = time.monotonic()
            await _submit(api, backlog(count), concurrency, tally)
            submitted = time.monotonic() - started
            _progress(f"submitted {len(tally.accepted)} in {submitted:.1f}s")
            found = await _wait_until_settled(api, tally)
            elapsed = time.monotonic() - started
            runtime: Runtime = app.state["runtime"]
            async with runtime.store.connect() as conn:
                stats = await outbox.queue_stats(conn)
            trace_id = None
            if tally.accepted:
                events = (await api.get(f"/v1/cases/{next(iter(tally.accepted))}/events")).json()
                trace_id = events[0]["data"].get("trace_id")
        return _report(
            tally,
            found=found,
            elapsed=elapsed,
            submitted=submitted,
            dead=stats.dead,
            trace_id=trace_id,
        )
    finally:
        await server.stop()
        sandbox.stop()
        if trace_file is not None:
            trace_file.shutdown()
            print(f"spans written to {trace_out} (OTLP/JSON)")


def _report(
    tally: Tally,
    *,
    found: dict[str, dict[str, Any]],
    elapsed: float,
    submitted: float,
    dead: int,
    trace_id: str | None,
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
    print(f"dead letters: {dead}")
    print(f"unsettled: {unsettled}")
    print(f"lost: {lost}")
    print(f"trace id of case {next(iter(tally.accepted), '-')}: {trace_id}")
    return lost + unsettled
