"""The gateway as the benchmarks run it: its settings, a token, and intake requests as bytes.

The per-client rate limit is raised far above anything the load generator can send: its
default (2000/s) exists to stop a runaway caller, and here it would cap the very figure being
measured; and tokens live an hour, so a long run never sees one expire. Everything else is the
default, durable configuration.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bench.bare_app import INTAKE_PATH
from bench.loadgen import http_request
from gateway.auth.issuer import mint_token
from gateway.auth.keys import dev_client, load_or_create_issuer_key
from gateway.auth.settings import AuthSettings
from gateway.settings import ConnectorInstance, Route, Settings, WorkerSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CASE = REPO_ROOT / "examples" / "prior-authorization.json"
BENCH_ROOT = REPO_ROOT / "var" / "bench"
UNTHROTTLED = 1_000_000


def fresh_home(name: str) -> Path:
    """An empty directory for one gateway's database and keys, under var/bench/ (on the same
    disk as the default store, so fsync costs what it costs there)."""
    home = BENCH_ROOT / name
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    return home


def gateway_settings(
    home: Path,
    *,
    database_url: str | None = None,
    workers: WorkerSettings | None = None,
    connectors: Mapping[str, ConnectorInstance] | None = None,
) -> Settings:
    return Settings(
        home=home,
        database_url=database_url,
        workers=workers or WorkerSettings(in_process=False),
        auth=AuthSettings(
            rate_limit_per_second=UNTHROTTLED, burst=UNTHROTTLED, token_ttl_seconds=3600
        ),
        connectors=dict(connectors or {}),
        routes=[Route(payer="*", connector=name) for name in (connectors or {})],
    )


def access_token(settings: Settings) -> str:
    """A token from the gateway's own issuer key (created here if the gateway has not yet)."""
    key = load_or_create_issuer_key(settings.home)
    return mint_token(key, settings.auth, dev_client(settings.home), ["cases:read", "cases:write"])


def example_body() -> bytes:
    return json.dumps(json.loads(EXAMPLE_CASE.read_text())).encode()


def intake_requests(port: int, token: str, bodies: Iterable[bytes], key_prefix: str) -> list[bytes]:
    """One `POST /v1/prior-authorizations` per body, each with its own Idempotency-Key."""
    return [
        http_request(
            "POST",
            INTAKE_PATH,
            port,
            {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"{key_prefix}-{index}",
            },
            body,
        )
        for index, body in enumerate(bodies)
    ]


def json_bodies(cases: Iterable[Mapping[str, Any]]) -> list[bytes]:
    return [json.dumps(case).encode() for case in cases]
