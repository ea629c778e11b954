"""The gateway with its workers, routed to the payer sandbox, and a webhook receiver on loopback;
also the ERP sandbox for the tests (here and in invoices) whose events reach the ERP connector."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from connectors.erp.sandbox import ErpSandbox
from connectors.payer_rest.sandbox import PayerRestSandbox
from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.settings import ConnectorInstance, EventSettings
from gateway.store.engine import Store
from gateway.store.ids import new_id
from gateway.store.subscriptions import NewSubscription, add_subscription
from tests.gateway.api.support import EXAMPLES, dev_token, served
from tests.gateway.dispatch.conftest import payer, routed_settings  # noqa: F401 (a fixture)
from tests.gateway.events.receiver import WebhookReceiver

ALL_AUTHORIZATION = [
    "case.opened",
    "case.submitted",
    "authorization.pended",
    "authorization.approved",
    "authorization.partially_approved",
    "authorization.denied",
]
SCOPES = ("cases:read", "cases:write", "subscriptions:write")
ERP_SECRET_ENV = "ERP_SANDBOX_CLIENT_SECRET"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def erp(monkeypatch: pytest.MonkeyPatch) -> Iterator[ErpSandbox]:
    monkeypatch.setenv(ERP_SECRET_ENV, "erp-secret-for-tests")
    with ErpSandbox(hang_seconds=3) as sandbox:
        yield sandbox


async def add_webhook_subscription(
    store: Store, event_types: list[str], created_at: datetime, tenant: str = "default"
) -> str:
    """A webhook subscription written straight to the store (its target is never called)."""
    subscription_id = f"sub_{new_id()}"
    async with store.begin() as conn:
        await add_subscription(
            conn,
            store.cipher,
            NewSubscription(
                id=subscription_id,
                tenant=tenant,
                event_types=event_types,
                case_types=None,
                payers=None,
                target_kind="webhook",
                target_url="http://127.0.0.1:9/hook",
                description=None,
                secret="whsec_" + "A" * 44,
                created_at=created_at,
            ),
        )
    return subscription_id


def erp_connector(erp: ErpSandbox, base_url: str, profile: str) -> ConnectorInstance:
    """The `erp` connector instance, on the sandbox's OData or REST face as `profile` says."""
    return ConnectorInstance(
        kind="erp",
        config={
            "base_url": base_url,
            "profile": profile,
            "timeout_seconds": 2,
            "auth": {
                "token_url": f"{erp.base_url}/oauth/token",
                "client_id": "casegate",
                "client_secret": f"env:{ERP_SECRET_ENV}",
            },
        },
    )


@dataclass
class EventsGateway:
    api: httpx.AsyncClient
    runtime: Runtime
    receiver: WebhookReceiver
    metrics: InMemoryMetricReader

    async def subscribe(
        self, path: str, event_types: list[str] = ALL_AUTHORIZATION, **extra: Any
    ) -> dict[str, Any]:
        body = {
            "event_types": event_types,
            "target": {"kind": "webhook", "url": self.receiver.url(path)},
            **extra,
        }
        response = await self.api.post("/v1/subscriptions", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def submit(self, key: str, procedure_code: str | None = None) -> str:
        body = json.loads((EXAMPLES / "prior-authorization.json").read_text())
        if procedure_code is not None:
            body["service_lines"][0]["procedure_code"] = procedure_code
        response = await self.api.post(
            "/v1/prior-authorizations", json=body, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    async def deliveries(self, subscription_id: str, status: str | None = None) -> list[Any]:
        params = {"limit": "200", **({"status": status} if status else {})}
        response = await self.api.get(
            f"/v1/subscriptions/{subscription_id}/deliveries", params=params
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def wait_deliveries(
        self, subscription_id: str, status: str, count: int, timeout: float = 20
    ) -> list[Any]:
        deadline = time.monotonic() + timeout
        while len(found := await self.deliveries(subscription_id, status)) < count:
            assert time.monotonic() < deadline, f"{len(found)} of {count} {status}"
            await asyncio.sleep(0.05)
        return found


@pytest.fixture
async def events_gateway(
    payer: PayerRestSandbox,  # noqa: F811 (the fixture imported above)
    receiver: WebhookReceiver,
    database_url: str,
    tmp_path: Path,
) -> AsyncIterator[EventsGateway]:
    settings = routed_settings(
        tmp_path, database_url, api_url=payer.base_url, token_url=f"{payer.base_url}/oauth/token"
    )
    settings = settings.model_copy(
        update={
            "events": EventSettings(
                per_subscription_concurrency=4, timeout_seconds=1.0, refresh_seconds=0.05
            )
        }
    )
    reader = InMemoryMetricReader()
    app = create_app(settings, meter_provider=MeterProvider(metric_readers=[reader]))
    async with served(app, dev_token(settings, SCOPES)) as api:
        yield EventsGateway(
            api=api, runtime=app.state["runtime"], receiver=receiver, metrics=reader
        )
