"""A gateway with workers routed to the PAS sandbox payer, which notifies it of decisions."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canonical.cases import CaseType
from connectors.fhir_pas.sandbox import FhirPasSandbox
from connectors.fhir_pas.sandbox_auth import SmartClient
from connectors.payer_rest.sandbox_rules import Rule
from gateway.app import create_app
from gateway.fhir.payer_subscriptions import export_signing_key
from gateway.runtime import Runtime
from gateway.settings import (
    ConnectorInstance,
    PayerFollowUpSettings,
    RetryPolicy,
    Route,
    Settings,
    WorkerSettings,
)
from tests.gateway.api.support import EXAMPLES, CaseApi, dev_token, free_port, served

PAYER_ID = "PASHP"
CLIENT_ID = "casegate"
PEND_CODE = "72148"
HELD_CODE = "97110"  # pended and never decided: stays with the payer until cancelled
RULES = [
    Rule(procedure_code=PEND_CODE, decide="pend", then="approve", decide_after_seconds=0.3),
    Rule(procedure_code=HELD_CODE, decide="pend"),
]


@dataclass
class PasGateway(CaseApi):
    base_url: str
    runtime: Runtime
    payer: FhirPasSandbox

    async def submit(self, key: str, **changes: Any) -> str:
        body: dict[str, Any] = json.loads((EXAMPLES / "prior-authorization.json").read_text())
        body["payer"]["id"] = PAYER_ID
        body["service_lines"][0]["procedure_code"] = changes.pop("procedure_code", PEND_CODE)
        if "family" in changes:
            body["patient"]["family"] = changes.pop("family")
        assert not changes
        response = await self.api.post(
            "/v1/prior-authorizations", json=body, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    async def subscribed(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not self.payer.subscriptions():
            assert time.monotonic() < deadline, "the gateway never subscribed at the payer"
            await asyncio.sleep(0.05)


def pas_settings(
    home: Path, database_url: str, payer: FhirPasSandbox, gateway_url: str, overdue: float
) -> Settings:
    pem, kid = export_signing_key(home)
    return Settings(
        home=home,
        database_url=database_url,
        workers=WorkerSettings(
            concurrency=8, lease_seconds=5, poll_interval_seconds=0.02, pended_follow_up_seconds=0.2
        ),
        retry_policies={
            "default": RetryPolicy(
                max_attempts=5, initial_backoff_seconds=0.05, max_backoff_seconds=0.2
            )
        },
        connectors={
            "pas": ConnectorInstance(
                kind="fhir_pas",
                config={
                    "base_url": payer.base_url,
                    "timeout_seconds": 2.0,
                    "auth": {
                        "token_url": payer.token_url,
                        "client_id": CLIENT_ID,
                        "auth_method": "private_key_jwt",
                        "private_key": f"file:{pem}",
                        "key_id": kid,
                        "signing_alg": "ES384",
                    },
                },
            )
        },
        routes=[
            Route(payer=PAYER_ID, connector="pas"),
            Route(payer=PAYER_ID, case_type=CaseType.eligibility_check, connector="pas"),
        ],
        payer_follow_up=PayerFollowUpSettings(
            callback_base_url=gateway_url,
            notification_overdue_seconds=overdue,
            reconcile_interval_seconds=0.2,
            max_inquiries_per_interval=5,
            subscribe_retry_seconds=0.2,
        ),
    )


LiveFactory = Callable[..., Awaitable[PasGateway]]


async def live_pas_gateway(
    tmp_path: Path, database_url: str, overdue: float
) -> AsyncIterator[PasGateway]:
    """The gateway (its JWKS is what the payer trusts) and the PAS sandbox, both on loopback."""
    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    client = SmartClient(client_id=CLIENT_ID, jwks_url=f"{gateway_url}/.well-known/jwks.json")
    payer = FhirPasSandbox(RULES, [client], hang_seconds=3)
    payer.start()
    settings = pas_settings(tmp_path / "home", database_url, payer, gateway_url, overdue)
    app = create_app(settings)
    try:
        async with served(app, dev_token(settings), port=port) as api:
            yield PasGateway(api, gateway_url, app.state["runtime"], payer)
    finally:
        payer.stop()
