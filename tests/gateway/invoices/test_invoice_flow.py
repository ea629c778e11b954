"""An invoice exception end to end: matched against the ERP's purchase order and receipts,
posted to AP, or held for an approver who approves (posted) or rejects (supplier told)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from connectors.erp.sandbox import ErpSandbox
from gateway.invoices.flow import INVOICE_POST_JOB
from gateway.store import audit, cases, outbox
from gateway.store.schema import outbox_jobs
from tests.gateway.invoices.conftest import InvoiceGateway, invoice, short_received_invoice


async def _jobs_of(gw: InvoiceGateway, case_id: str) -> list[str]:
    async with gw.runtime.store.connect() as conn:
        query = outbox_jobs.select().where(outbox_jobs.c.case_id == case_id)
        return [row.kind for row in await conn.execute(query)]


async def test_a_matching_invoice_is_posted_to_ap_once(
    invoices: InvoiceGateway, erp: ErpSandbox
) -> None:
    gw = invoices
    case_id = await gw.submit("match-1", invoice())
    case = await gw.wait_for(case_id, "approved")
    assert case["route"] == "erp"
    assert await gw.event_types(case_id) == ["case.created", "case.submitted", "case.approved"]
    [posted] = erp.ledger.documents("ap_invoices")
    assert posted["invoice_number"] == "INV-55120"
    assert erp.gl_total() == Decimal("9355.00")  # 2 x 4500.00 + 10 x 35.50
    # The same request again is the same case, and nothing is posted a second time.
    assert await gw.submit("match-1", invoice()) == case_id
    await asyncio.sleep(0.3)
    assert len(erp.ledger.documents("ap_invoices")) == 1
    assert await gw.work_items("ap_exceptions") == []


async def test_a_mismatch_waits_for_the_approver_whose_approval_posts_it(
    invoices: InvoiceGateway, erp: ErpSandbox
) -> None:
    gw = invoices
    path = "ap-events"
    await gw.subscribe(
        ["invoice_exception.opened", "invoice_exception.resolved"],
        {"kind": "webhook", "url": gw.receiver.url(path)},
    )
    case_id = await gw.submit("short-1", short_received_invoice())
    await gw.wait_for(case_id, "pended")
    [item] = await gw.work_items("ap_exceptions")
    assert item["case_id"] == case_id
    assert item["kind"] == "invoice_mismatch"
    assert item["role"] == "ap_approver"
    discrepancies = item["detail"]["discrepancies"]
    assert discrepancies == [
        {"kind": "not_received", "line_number": 1, "invoiced": "5", "expected": "4"}
    ]
    types = await gw.event_types(case_id)
    assert types[-3:] == ["case.submitted", "case.pended", "case.exception_opened"]
    assert "case.follow_up" not in await _jobs_of(gw, case_id)  # no payer to chase
    assert erp.ledger.documents("ap_invoices") == []

    [opened] = await gw.receiver.wait_delivered(path, 1)
    assert opened.event["type"] == "invoice_exception.opened"
    assert opened.event["data"] == {
        "supplier_id": "SUP-200",
        "invoice_number": "INV-7002",
        "purchase_order_number": "PO-1002",
        "currency": "USD",
    }

    answer = await gw.resolve(item["id"], "approve")
    assert answer.status_code == 200, answer.text
    assert answer.json()["sent"] is True
    await gw.wait_for(case_id, "approved")
    assert INVOICE_POST_JOB in await _jobs_of(gw, case_id)
    [posted] = erp.ledger.documents("ap_invoices")
    assert posted["purchase_order"] == "PO-1002"
    assert erp.gl_total() == Decimal("6000.00")
    _, resolved = await gw.receiver.wait_delivered(path, 2)
    assert resolved.event["type"] == "invoice_exception.resolved"
    assert resolved.event["data"]["outcome"] == "approved"
    # Decided once: a second decision on the same item is refused.
    assert (await gw.resolve(item["id"], "reject")).status_code == 409


async def test_a_rejected_mismatch_notifies_the_supplier_contact_and_posts_nothing(
    invoices: InvoiceGateway, erp: ErpSandbox
) -> None:
    gw = invoices
    path = "supplier-contact"
    subscription = await gw.subscribe(
        ["invoice_exception.resolved"], {"kind": "webhook", "url": gw.receiver.url(path)}
    )
    case_id = await gw.submit("short-2", short_received_invoice())
    await gw.wait_for(case_id, "pended")
    [item] = await gw.work_items("ap_exceptions")
    assert (await gw.resolve(item["id"], "reject")).status_code == 200
    case = await gw.wait_for(case_id, "denied")
    assert case["decision"]["reason_code"] == "rejected"
    [call] = await gw.receiver.wait_delivered(path, 1)
    assert call.verified_with(subscription["secret"])
    assert call.event["type"] == "invoice_exception.resolved"
    assert call.event["case"]["id"] == case_id
    assert call.event["data"]["outcome"] == "denied"
    assert call.event["data"]["reason_code"] == "rejected"
    await asyncio.sleep(0.3)
    assert erp.ledger.documents("ap_invoices") == []
    assert erp.gl_total() == 0
    assert INVOICE_POST_JOB not in await _jobs_of(gw, case_id)
    async with gw.runtime.store.connect() as conn:
        entries = await audit.list_audit(conn, case_id=case_id, limit=50)
    [decided] = [e for e in entries if e.detail.get("work_item") == item["id"]]
    assert (decided.action, decided.detail["decision"]) == ("U", "reject")


async def test_an_item_of_an_invoice_exception_needs_a_decision(
    invoices: InvoiceGateway,
) -> None:
    gw = invoices
    case_id = await gw.submit("short-3", short_received_invoice())
    await gw.wait_for(case_id, "pended")
    [item] = await gw.work_items("ap_exceptions")
    answer = await gw.api.post(f"/v1/work-items/{item['id']}/resolve", json={})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in answer.json()["errors"]] == ["/decision"]
    answer = await gw.resolve(item["id"], "maybe")
    assert answer.status_code == 422
    assert "/decision" in [e["pointer"] for e in answer.json()["errors"]]
    assert (await gw.case(case_id))["status"] == "pended"


async def test_an_erp_validation_error_dead_letters_with_the_erp_message_kept(
    invoices: InvoiceGateway, erp: ErpSandbox
) -> None:
    gw = invoices
    erp.ledger.suppliers = frozenset({"SUP-200"})  # SUP-100 blocked in the vendor master
    case_id = await gw.submit("blocked-1", invoice())
    store = gw.runtime.store
    for _ in range(400):
        async with store.connect() as conn:
            dead = [job for job in await outbox.list_dead(conn, 50) if job.case_id == case_id]
        if dead:
            break
        await asyncio.sleep(0.05)
    [job] = dead
    assert job.attempts == 1  # permanent: not retried
    async with store.connect() as conn:
        kept = await cases.list_messages(conn, store.cipher, errors_only=True, limit=50)
    [refusal] = [m for m in kept if m.case_id == case_id]
    assert refusal.direction == "inbound"
    assert b"supplier_id is not a known supplier" in refusal.body
    assert "send_failed" in (await gw.event_types(case_id))[-1]
    assert erp.ledger.documents("ap_invoices") == []


async def test_a_malformed_invoice_is_refused_naming_the_field(invoices: InvoiceGateway) -> None:
    body = invoice()
    body["lines"][1]["quantity"] = "-3"
    response = await invoices.api.post(
        "/v1/invoice-exceptions", json=body, headers={"Idempotency-Key": "bad-1"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    pointers = [error["pointer"] for error in response.json()["errors"]]
    assert pointers == ["/lines/1/quantity"]


async def test_a_mismatch_on_a_held_invoice_goes_back_to_the_approver_of_the_hold(
    invoices: InvoiceGateway, erp: ErpSandbox
) -> None:
    gw = invoices
    lines = invoice()["lines"]
    lines[0]["quantity"] = "6"  # 27,000 dollars: held for an approver before it is matched
    case_id = await gw.submit("large-1", invoice(lines=lines))
    [hold] = await gw.work_items("approvals")
    assert hold["kind"] == "amount_over_threshold"
    resumed = await gw.api.post(f"/v1/work-items/{hold['id']}/resolve", json={})
    assert resumed.status_code == 200, resumed.text
    await gw.wait_for(case_id, "pended")
    [item] = await gw.work_items("approvals")
    assert item["kind"] == "invoice_mismatch"
    assert item["role"] == "finance_approver"
    kinds = {d["kind"] for d in item["detail"]["discrepancies"]}
    assert kinds == {"over_ordered", "not_received"}
    assert await gw.work_items("ap_exceptions") == []
    assert erp.ledger.documents("ap_invoices") == []
