"""The ERP flow: authorizations decided by the other flows reach the ERP sandbox through an
event subscription (requisitions held and released, schedules updated, expected reimbursement
booked), and supplier invoices come in through /v1/invoice-exceptions. Invoices that match
their purchase order and receipts are posted to AP at once; the rest wait in the AP exceptions
queue, where an approver approves each through the work-item API and it is posted then.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from connectors.erp.sandbox import ErpSandbox
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.secrets import SecretRef
from gateway.demo.access import all_items, dev_token, secret_file
from gateway.demo.api_submit import submit_cases
from gateway.demo.flow import DemoContext, FlowResult
from gateway.invoices.flow import REVIEW_KIND
from gateway.settings import ConnectorInstance, Settings
from gateway.store.schema import case_events

CLIENT_ID = "casegate-demo"
CONNECTOR = "erp"  # the instance the default pack routes invoice exceptions to
FANNED_OUT = [
    "authorization.approved",
    "authorization.partially_approved",
    "authorization.pended",
    "authorization.more_information_requested",
    "authorization.denied",
]
REVIEW_WAIT_SECONDS = 60.0
_FINAL = ("approved", "denied")


def _invoice(index: int) -> dict[str, Any]:
    """Of every three invoices one matches its order exactly, one bills five vials of which
    the dock received four, and one charges 5% over the ordered implant price."""
    number = f"INV-D{index:05d}"
    if index % 3 == 1:
        line = {"line_number": 1, "item_code": "NDC-57894-0030-01", "quantity": "5"}
        return _document("SUP-200", number, "PO-1002", [line | {"unit_price": "1200.00"}])
    implant_price = "4725.00" if index % 3 == 2 else "4500.00"
    lines = [
        {"line_number": 1, "item_code": "IMPLANT-KNEE-TKA", "quantity": "2"},
        {"line_number": 2, "item_code": "SCREW-6.5", "quantity": "10", "unit_price": "35.50"},
    ]
    lines[0]["unit_price"] = implant_price
    return _document("SUP-100", number, "PO-1001", lines)


def _document(
    supplier: str, number: str, order: str, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "supplier_id": supplier,
        "supplier_name": "Demo Medical Supply",
        "invoice_number": number,
        "purchase_order_number": order,
        "invoice_date": "2026-11-20",
        "currency": "USD",
        "lines": lines,
    }


class ErpFlow:
    name = "ERP fan-out and invoice exceptions"
    weight = 1

    def __init__(self) -> None:
        self._sandbox: ErpSandbox | None = None
        self._secret_file = Path()
        self._approved: list[str] = []

    async def start(self, home: Path) -> None:
        self._secret_file = secret_file(home, "erp-client-secret")
        client = SandboxClient(
            client_id=CLIENT_ID, client_secret=SecretRef(f"file:{self._secret_file}")
        )
        self._sandbox = ErpSandbox([client])
        self._sandbox.start()

    def configure(self, settings: Settings) -> Settings:
        assert self._sandbox is not None
        instance = ConnectorInstance(
            kind="erp",
            config={
                "base_url": self._sandbox.odata_url(),
                "profile": "odata",
                "auth": {
                    "token_url": f"{self._sandbox.base_url}/oauth/token",
                    "client_id": CLIENT_ID,
                    "client_secret": f"file:{self._secret_file}",
                },
            },
        )
        return settings.model_copy(
            update={"connectors": {**settings.connectors, CONNECTOR: instance}}
        )

    async def run(self, ctx: DemoContext) -> FlowResult:
        await self._subscribe(ctx)
        invoices = [_invoice(index) for index in range(max(ctx.count, 3))]
        result = await submit_cases(ctx.api, "/v1/invoice-exceptions", invoices, ctx.concurrency)
        mismatched = sum(1 for index in range(len(invoices)) if index % 3)
        for item in await self._review_items(ctx, set(result.accepted), mismatched):
            answer = await ctx.api.post(
                f"/v1/work-items/{item['id']}/resolve", json={"decision": "approve"}
            )
            if answer.status_code == 200:
                self._approved.append(item["case_id"])
        return result

    @staticmethod
    async def _subscribe(ctx: DemoContext) -> None:
        """The ERP connector as a subscriber, created through the API as an operator would."""
        token = await dev_token(ctx.api, ctx.home, "subscriptions:write")
        response = await ctx.api.post(
            "/v1/subscriptions",
            json={
                "event_types": FANNED_OUT,
                "target": {"kind": "connector", "instance": CONNECTOR},
                "description": "procurement, scheduling and finance in the ERP",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()

    @staticmethod
    async def _review_items(
        ctx: DemoContext, case_ids: set[str], expected: int
    ) -> list[dict[str, Any]]:
        """The mismatches' work items, once the worker has matched every invoice (bounded)."""
        deadline = time.monotonic() + REVIEW_WAIT_SECONDS
        while True:
            items = [
                item
                for item in await all_items(ctx.api, "/v1/work-items")
                if item["kind"] == REVIEW_KIND and item["case_id"] in case_ids
            ]
            if len(items) >= expected or time.monotonic() > deadline:
                return items
            await asyncio.sleep(0.2)

    async def report(self, ctx: DemoContext) -> list[str]:
        assert self._sandbox is not None
        await self._wait_posted(ctx.api)
        ledger = self._sandbox.ledger
        async with ctx.runtime.store.connect() as conn:
            kinds = Counter(
                kind
                for (kind,) in await conn.execute(
                    sa.select(case_events.c.type).where(
                        case_events.c.type.in_(["case.exception_opened", "case.exception_approved"])
                    )
                )
            )
        checkpoints = Counter(
            str(d["action"]).lower() for d in ledger.documents("requisition_checkpoints")
        )
        posted = {
            "requisition hold": checkpoints["hold"],
            "requisition release": checkpoints["release"],
            "schedule update": len(ledger.documents("schedule_updates")),
            "expected reimbursement": len(ledger.documents("expected_reimbursements")),
            "AP invoice": len(ledger.documents("ap_invoices")),
        }
        lines = ["ERP postings by document:"]
        lines += [f"  {name:<26}{n:>6}" for name, n in posted.items()]
        lines.append(f"  GL (accounts payable)     {self._sandbox.gl_total():>12,.2f} USD")
        lines.append(
            f"invoice exceptions: {kinds['case.exception_opened']} opened, "
            f"{kinds['case.exception_approved']} approved by an approver"
        )
        return lines

    async def _wait_posted(self, api: httpx.AsyncClient) -> None:
        """Approved exceptions are posted by the outbox after the approval: wait for them."""
        deadline = time.monotonic() + REVIEW_WAIT_SECONDS
        for case_id in self._approved:
            while (await api.get(f"/v1/cases/{case_id}")).json()["status"] not in _FINAL:
                if time.monotonic() > deadline:
                    return
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        if self._sandbox is not None:
            self._sandbox.stop()
