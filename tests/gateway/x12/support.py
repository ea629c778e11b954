"""A gateway with its workers, routed to the clearinghouse sandbox in real time and by folder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from canonical.cases import CaseType
from connectors.secrets import SecretRef
from connectors.x12_clearinghouse.sandbox import X12ClearinghouseSandbox
from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.settings import (
    ConnectorInstance,
    RetryPolicy,
    Route,
    Settings,
    WorkerSettings,
    X12Pickup,
    X12Settings,
)
from tests.connectors.x12_clearinghouse.support import RULES, USER
from tests.gateway.api.support import CaseApi, dev_token, served

SETTLED = {"approved", "partially_approved", "denied", "more_info_requested"}
CONNECTOR = "clearinghouse"


@dataclass
class LiveX12(CaseApi):
    runtime: Runtime
    clearinghouse: X12ClearinghouseSandbox

    async def submit(self, body: dict[str, Any], key: str) -> str:
        response = await self.api.post(
            "/v1/prior-authorizations", json=body, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])


def clearinghouse_settings(
    tmp_path: Path, database_url: str, sandbox: X12ClearinghouseSandbox
) -> Settings:
    """Routed to the sandbox for prior auths; its report folder polled every 50 ms."""
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        workers=WorkerSettings(
            concurrency=8, lease_seconds=5, poll_interval_seconds=0.02, pended_follow_up_seconds=0.2
        ),
        retry_policies={
            "default": RetryPolicy(
                max_attempts=3, initial_backoff_seconds=0.05, max_backoff_seconds=0.2
            )
        },
        connectors={
            CONNECTOR: ConnectorInstance(
                kind="x12_clearinghouse",
                config={
                    "sender": {"id": "CASEGATE"},
                    "receiver": {"id": "CLEARINGHOUSE"},
                    "timeout_seconds": 5,
                    "realtime": {
                        "url": sandbox.base_url,
                        "auth": {
                            "method": "client_secret",
                            "username": USER,
                            "password": f"file:{tmp_path / 'ch-secret'}",
                        },
                    },
                    "batch": {"directory": str(sandbox.root), "poll_seconds": 0.02},
                },
            )
        },
        routes=[
            Route(payer="ACMEHP", connector=CONNECTOR),
            Route(payer="ACMEHP", case_type=CaseType.eligibility_check, connector=CONNECTOR),
        ],
        x12=X12Settings(
            pickup=[
                X12Pickup(
                    connector=CONNECTOR, interval_seconds=0.05, claims_dir=tmp_path / "claims"
                )
            ]
        ),
    )


@pytest.fixture
def clearinghouse(tmp_path: Path) -> Iterator[X12ClearinghouseSandbox]:
    secret = tmp_path / "ch-secret"
    secret.write_text("ch-s3cret-for-tests")
    sandbox = X12ClearinghouseSandbox(
        tmp_path / "ch", RULES, users={USER: SecretRef(f"file:{secret}")}, sftp=False
    )
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
async def live_x12(
    clearinghouse: X12ClearinghouseSandbox, database_url: str, tmp_path: Path
) -> AsyncIterator[LiveX12]:
    settings = clearinghouse_settings(tmp_path, database_url, clearinghouse)
    app = create_app(settings)
    async with served(app, dev_token(settings)) as api:
        yield LiveX12(api=api, runtime=app.state["runtime"], clearinghouse=clearinghouse)
