"""A subscription whose target is a connector instance: events reach the ERP sandbox through the
ERP connector (`erp.post`), with the same lanes, order and dead letters as webhooks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from connectors.erp.sandbox import ErpSandbox
from connectors.payer_rest.sandbox import PayerRestSandbox
from gateway.app import create_app
from gateway.settings import EventSettings
from tests.gateway.api.support import dev_token, served
from tests.gateway.dispatch.conftest import routed_settings
from tests.gateway.events.conftest import SCOPES, EventsGateway, erp_connector
from tests.gateway.events.receiver import WebhookReceiver


@pytest.fixture
async def erp_gateway(
    payer: PayerRestSandbox,
    erp: ErpSandbox,
    receiver: WebhookReceiver,
    database_url: str,
    tmp_path: Path,
) -> AsyncIterator[EventsGateway]:
    settings = routed_settings(
        tmp_path, database_url, api_url=payer.base_url, token_url=f"{payer.base_url}/oauth/token"
    )
    settings = settings.model_copy(
        update={
            "connectors": {**settings.connectors, "erp": erp_connector(erp, erp.base_url, "rest")},
            "events": EventSettings(timeout_seconds=1.0, refresh_seconds=0.05),
        }
    )
    reader = InMemoryMetricReader()
    app = create_app(settings, meter_provider=MeterProvider(metric_readers=[reader]))
    async with served(app, dev_token(settings, SCOPES)) as api:
        yield EventsGateway(
            api=api, runtime=app.state["runtime"], receiver=receiver, metrics=reader
        )


async def _subscribe(gw: EventsGateway, instance: str) -> str:
    response = await gw.api.post(
        "/v1/subscriptions",
        json={
            "event_types": ["authorization.approved"],
            "target": {"kind": "connector", "instance": instance},
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["target"] == {"kind": "connector", "url": None, "instance": instance}
    return str(response.json()["id"])


async def test_an_approval_is_posted_to_the_erp_once(
    erp_gateway: EventsGateway, erp: ErpSandbox
) -> None:
    gw = erp_gateway
    subscription_id = await _subscribe(gw, "erp")
    case_id = await gw.submit("erp-1")
    (delivered,) = await gw.wait_deliveries(subscription_id, "delivered", 1)
    assert delivered["event_id"] == f"evt_{case_id}_3"
    assert erp.effects(delivered["event_id"]) >= 1
    releases = erp.ledger.documents("requisition_checkpoints")
    assert [r["case_reference"] for r in releases] == [case_id]
    posted = erp.effects()
    await asyncio.sleep(0.3)
    assert erp.effects() == posted  # delivered once, not again


async def test_a_connector_that_cannot_post_events_dead_letters(
    erp_gateway: EventsGateway,
) -> None:
    gw = erp_gateway
    subscription_id = await _subscribe(gw, "acme")  # the payer connector: no erp.post
    await gw.submit("erp-2")
    deadline = time.monotonic() + 20
    while not (dead := await gw.deliveries(subscription_id, "dead")):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert dead[0]["attempts"] == 1
    assert dead[0]["last_error"] == "connector acme cannot erp.post"
