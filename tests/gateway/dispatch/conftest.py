"""The gateway with its workers running, routed to a real payer sandbox on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors.payer_rest.sandbox import PayerRestSandbox
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.payer_rest.sandbox_rules import Rule
from connectors.secrets import SecretRef
from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.settings import ConnectorInstance, RetryPolicy, Route, Settings, WorkerSettings
from tests.gateway.api.support import CaseApi, dev_token, example_request, served

SETTLED = {"approved", "partially_approved", "denied", "more_info_requested"}
RULES = [
    Rule(procedure_code="43644", decide="deny", reason_code="N", reason_text="Not necessary"),
    Rule(procedure_code="72148", decide="pend", then="approve", decide_after_inquiries=1),
    Rule(procedure_code="J9035", decide="partial", approved_units=2),
]


@pytest.fixture
def payer(tmp_path: Path) -> Iterator[PayerRestSandbox]:
    secret = tmp_path / "payer-secret"
    secret.write_text("s3cret-for-tests")
    client = SandboxClient(client_id="casegate", client_secret=SecretRef(f"file:{secret}"))
    sandbox = PayerRestSandbox(rules=RULES, clients=[client], hang_seconds=3)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@dataclass
class LiveGateway(CaseApi):
    runtime: Runtime
    payer: PayerRestSandbox

    async def submit(self, key: str, **changes: Any) -> str:
        body = example_request(**changes)
        response = await self.api.post(
            "/v1/prior-authorizations", json=body, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])


def routed_settings(
    tmp_path: Path, database_url: str, *, api_url: str, token_url: str, concurrency: int = 8
) -> Settings:
    """A gateway routed to the payer sandbox, with retries and follow-ups fast enough for tests."""
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        workers=WorkerSettings(
            concurrency=concurrency,
            lease_seconds=5,
            poll_interval_seconds=0.02,
            pended_follow_up_seconds=0.2,
        ),
        retry_policies={
            "default": RetryPolicy(
                max_attempts=3, initial_backoff_seconds=0.05, max_backoff_seconds=0.2
            )
        },
        connectors={
            "acme": ConnectorInstance(
                kind="payer_rest",
                config={
                    "base_url": api_url,
                    "timeout_seconds": 1.0,
                    "auth": {
                        "token_url": token_url,
                        "client_id": "casegate",
                        "client_secret": f"file:{tmp_path / 'payer-secret'}",
                    },
                },
            )
        },
        routes=[Route(payer="ACMEHP", connector="acme")],
    )


@pytest.fixture
async def live(
    payer: PayerRestSandbox, database_url: str, tmp_path: Path
) -> AsyncIterator[LiveGateway]:
    settings = routed_settings(
        tmp_path, database_url, api_url=payer.base_url, token_url=f"{payer.base_url}/oauth/token"
    )
    app = create_app(settings)
    async with served(app, dev_token(settings)) as api:
        yield LiveGateway(api=api, runtime=app.state["runtime"], payer=payer)
