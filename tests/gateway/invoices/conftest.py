"""The gateway with its workers, the ERP sandbox behind the `erp` connector, the payer sandbox
for authorizations, and a webhook receiver standing in for a supplier contact's system."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.erp.sandbox import ErpSandbox
from connectors.payer_rest.sandbox import PayerRestSandbox
from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.settings import EventSettings
from tests.gateway.api.support import EXAMPLES, CaseApi, dev_token, served
from tests.gateway.dispatch.conftest import payer, routed_settings  # noqa: F401 (a fixture)
from tests.gateway.events.conftest import (  # noqa: F401 (erp and receiver are fixtures)
    SCOPES,
    erp,
    erp_connector,
    receiver,
)
from tests.gateway.events.receiver import WebhookReceiver


def invoice(**changes: Any) -> dict[str, Any]:
    """An invoice for the sandbox's PO-1001 (knee implants and screws, received in full)."""
    body: dict[str, Any] = json.loads((EXAMPLES / "invoice-exception.json").read_text())
    body.update(
        supplier_id="SUP-100",
        purchase_order_number="PO-1001",
        lines=[
            {
                "line_number": 1,
                "item_code": "IMPLANT-KNEE-TKA",
                "quantity": "2",
                "unit_price": "4500.00",
            },
            {"line_number": 2, "item_code": "SCREW-6.5", "quantity": "10", "unit_price": "35.50"},
        ],
    )
    return body | changes


def short_received_invoice() -> dict[str, Any]:
    """Five vials invoiced on PO-1002, of which the dock received four."""
    line = {"line_number": 1, "item_code": "NDC-57894-0030-01", "quantity": "5"}
    return invoice(
        supplier_id="SUP-200",
        invoice_number="INV-7002",
        purchase_order_number="PO-1002",
        lines=[line | {"unit_price": "1200.00"}],
    )


@dataclass
class InvoiceGateway(CaseApi):
    runtime: Runtime
    receiver: WebhookReceiver

    async def submit(self, key: str, body: dict[str, Any]) -> str:
        response = await self.api.post(
            "/v1/invoice-exceptions", json=body, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    async def event_types(self, case_id: str) -> list[str]:
        return [event["type"] for event in await self.events(case_id)]

    async def work_items(self, queue: str) -> list[dict[str, Any]]:
        response = await self.api.get("/v1/work-items", params={"queue": queue})
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def resolve(self, item_id: str, decision: str) -> httpx.Response:
        return await self.api.post(f"/v1/work-items/{item_id}/resolve", json={"decision": decision})

    async def subscribe(self, event_types: list[str], target: dict[str, str]) -> dict[str, Any]:
        body = {"event_types": event_types, "target": target}
        response = await self.api.post("/v1/subscriptions", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def delivered(self, subscription_id: str, count: int, timeout: float = 20) -> list[Any]:
        deadline = time.monotonic() + timeout
        path = f"/v1/subscriptions/{subscription_id}/deliveries"
        while True:
            response = await self.api.get(path, params={"status": "delivered", "limit": "200"})
            found = list(response.json()["items"])
            if len(found) >= count:
                return found
            assert time.monotonic() < deadline, f"{len(found)} of {count} delivered"
            await asyncio.sleep(0.05)


@pytest.fixture
async def invoices(
    payer: PayerRestSandbox,  # noqa: F811 (the fixtures imported above)
    erp: ErpSandbox,  # noqa: F811
    receiver: WebhookReceiver,  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> AsyncIterator[InvoiceGateway]:
    settings = routed_settings(
        tmp_path, database_url, api_url=payer.base_url, token_url=f"{payer.base_url}/oauth/token"
    )
    erp_instance = erp_connector(erp, erp.odata_url(), "odata")
    settings = settings.model_copy(
        update={
            "connectors": {**settings.connectors, "erp": erp_instance},
            "events": EventSettings(timeout_seconds=1.0, refresh_seconds=0.05),
        }
    )
    app = create_app(settings)
    async with served(app, dev_token(settings, SCOPES)) as api:
        yield InvoiceGateway(api=api, runtime=app.state["runtime"], receiver=receiver)
