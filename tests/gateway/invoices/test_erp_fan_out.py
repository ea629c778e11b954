"""Decided authorizations reach the ERP through a subscription whose target is the ERP
connector: the requisition is held while the payer pends or denies and released on approval,
and an approval also updates scheduling and books the expected reimbursement."""

from __future__ import annotations

import json
from typing import Any

from connectors.erp.sandbox import ErpSandbox
from tests.gateway.api.support import EXAMPLES
from tests.gateway.invoices.conftest import InvoiceGateway

DECIDED = ["authorization.pended", "authorization.approved", "authorization.denied"]


async def _authorization(gw: InvoiceGateway, key: str, procedure_code: str) -> str:
    body: dict[str, Any] = json.loads((EXAMPLES / "prior-authorization.json").read_text())
    body["service_lines"][0]["procedure_code"] = procedure_code
    response = await gw.api.post(
        "/v1/prior-authorizations", json=body, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def test_decisions_hold_and_release_requisitions_and_reach_scheduling_and_finance(
    invoices: InvoiceGateway, erp: ErpSandbox
) -> None:
    gw = invoices
    subscription = await gw.subscribe(DECIDED, {"kind": "connector", "instance": "erp"})
    pended_then_approved = await _authorization(gw, "fan-1", "72148")
    denied = await _authorization(gw, "fan-2", "43644")
    await gw.wait_for(pended_then_approved, "approved")
    await gw.wait_for(denied, "denied")
    # pended + approved for the first case, denied for the second
    delivered = await gw.delivered(subscription["id"], 3)
    assert sorted(d["event_type"] for d in delivered) == sorted(DECIDED)
    assert erp.ledger.requisitions == {pended_then_approved: "release", denied: "hold"}
    holds = [
        d["case_reference"]
        for d in erp.ledger.documents("requisition_checkpoints")
        if d["action"] == "HOLD"
    ]
    assert sorted(holds) == sorted([pended_then_approved, denied])
    [schedule] = erp.ledger.documents("schedule_updates")
    assert schedule["case_reference"] == pended_then_approved
    assert schedule["status"] == "AUTHORIZED"
    [expected] = erp.ledger.documents("expected_reimbursements")
    assert (expected["case_reference"], expected["payer_id"]) == (pended_then_approved, "ACMEHP")
