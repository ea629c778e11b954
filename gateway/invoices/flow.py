"""An invoice exception case from its send to its end: the purchase order and receipts are read
from the ERP, the invoice is matched against them, and it is either posted to accounts payable
at once or left pended in an approver's queue until a person approves or rejects it.

The approved invoice is posted under one idempotency key per case, whether the match or a
person approved it, so the ERP sees one AP invoice however often a step is retried. A mismatch
never gets a payer follow-up: only the approver moves the case on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from canonical.cases import InvoiceExceptionRequest
from canonical.events import DomainEvent, note_event, transition_event
from canonical.status import DECIDED_STATUSES, CaseStatus
from connectors.contract import ConnectorRequest, ConnectorResponse
from connectors.errors import PermanentError, TransientError
from gateway.dispatch.records import exchange_messages, worker_audit
from gateway.intake import Caller, event_record
from gateway.invoices.match import Discrepancy, three_way_match
from gateway.orchestration.work import Resumed, WorkItemConflict
from gateway.runtime import Runtime
from gateway.settings import InvoiceSettings
from gateway.store import audit, cases, outbox
from gateway.store.ids import new_id
from gateway.store.records import CaseRow, JobRow, NewJob
from gateway.store.work import (
    NewWorkItem,
    WorkItemRow,
    add_work_items,
    get_case_policy,
    update_work_item,
)
from gateway.telemetry import current_carrier

INVOICE_POST_JOB = "invoice.post"
REVIEW_KIND = "invoice_mismatch"
LOOKUP = "erp.lookup"
POST = "erp.post"
APPROVED_DOCUMENT = "invoice.approved"
MISMATCH_REASON = "invoice_mismatch"
ExceptionDecision = Literal["approve", "reject"]
REJECTED_REASON = "rejected"

Call = Callable[[str, ConnectorRequest], Awaitable[ConnectorResponse]]


@dataclass(frozen=True)
class InvoiceStep:
    """What the outbox worker lends one invoice job: its connector call (with the retry policy
    and the error classes the worker acts on) and the lease it holds."""

    runtime: Runtime
    job: JobRow
    call: Call
    owner: str


def approved_document(row: CaseRow) -> dict[str, Any]:
    """What `erp.post` is given for an approved invoice (the ERP profile maps it to AP)."""
    return {
        "id": f"{row.id}:{APPROVED_DOCUMENT}",
        "type": APPROVED_DOCUMENT,
        "invoice": row.payload,
    }


async def send_invoice(step: InvoiceStep, row: CaseRow, connector: str) -> None:
    """Match the invoice against what the ERP holds; post it, or open the exception."""
    status = CaseStatus(row.status)
    invoice = InvoiceExceptionRequest.model_validate(row.payload)
    number = {"purchase_order_number": invoice.purchase_order_number}
    lookup = await _exchange(step, row, connector, _request(row, LOOKUP, number))
    found_records = lookup.data or {}
    order = found_records.get("purchase_order") or {}
    receipts = found_records.get("receipts") or []
    tolerances = step.runtime.settings.invoices.tolerances
    found = three_way_match(invoice, order, receipts, tolerances)
    now = datetime.now(UTC)
    events = [transition_event(row.id, status, CaseStatus.submitted, now, {"route": connector})]
    if found:
        item = await _review_item(step.runtime, row, found, now)
        events += _opened(row, invoice, found, item, now)
        outcome = _Outcome(connector, CaseStatus.pended, events, [lookup], [item])
    else:
        posted = await _exchange(step, row, connector, _approved_request(row))
        events.append(_approved(row.id, CaseStatus.submitted, now, {}))
        outcome = _Outcome(connector, CaseStatus.approved, events, [lookup, posted])
    await _settle(step, row, outcome)


async def post_approved_invoice(step: InvoiceStep, row: CaseRow) -> None:
    """The approver approved a mismatch: post the invoice and close the exception approved."""
    if CaseStatus(row.status) is not CaseStatus.pended or row.route is None:
        # Already recorded by an earlier attempt, or moved on meanwhile.
        async with step.runtime.store.begin() as conn:
            await outbox.complete_job(conn, step.job.id, step.owner)
        return
    posted = await _exchange(step, row, row.route, _approved_request(row))
    work_item = step.job.payload.get("work_item")
    event = _approved(row.id, CaseStatus.pended, datetime.now(UTC), {"work_item": work_item})
    await _settle(step, row, _Outcome(row.route, CaseStatus.approved, [event], [posted]))


async def decide_exception(
    conn: AsyncConnection,
    *,
    item: WorkItemRow,
    case: CaseRow,
    caller: Caller,
    decision: ExceptionDecision,
    now: datetime,
) -> Resumed:
    """The approver's decision, in the work-item resolution's transaction: approve queues the
    AP posting through the outbox; reject denies the case, which tells the supplier's contact
    (the `invoice_exception.resolved` event reaches its subscriptions)."""
    if item.status == "resolved":
        raise WorkItemConflict("the work item is already resolved")
    if CaseStatus(case.status) is not CaseStatus.pended:
        raise WorkItemConflict("the invoice exception is no longer waiting for a decision")
    resolved = await update_work_item(
        conn,
        item,
        status="resolved",
        resolved_at=now,
        assignee=item.assignee or caller.client_id,
        detail={**item.detail, "resolution": {"decision": decision}},
    )
    if resolved is None:
        raise WorkItemConflict("the work item changed meanwhile; retry")
    facts = {"work_item": item.id, "decision": decision}
    if decision == "approve":
        job = NewJob(
            kind=INVOICE_POST_JOB,
            case_id=case.id,
            connector=case.route,
            payload={"work_item": item.id},
            trace_context=current_carrier(),
            available_at=now,
        )
        await outbox.enqueue(conn, job)
        event = note_event(case.id, CaseStatus.pended, "exception_approved", now, facts)
        await cases.append_event(conn, event_record(event))
        return Resumed(resolved, sent=True, still_held=[])
    denied = {"outcome": CaseStatus.denied.value, "reason_code": REJECTED_REASON}
    if not await cases.update_case(
        conn, case.id, case.version, status=CaseStatus.denied.value, decision=denied, decided=True
    ):
        raise WorkItemConflict("the case changed meanwhile; retry")
    event = transition_event(case.id, CaseStatus.pended, CaseStatus.denied, now, denied | facts)
    await cases.append_event(conn, event_record(event))
    return Resumed(resolved, sent=False, still_held=[])


def _request(row: CaseRow, operation: str, payload: dict[str, Any]) -> ConnectorRequest:
    return ConnectorRequest(
        operation=operation,
        idempotency_key=f"{row.id}:{operation}",
        case_id=row.id,
        case_type=row.type,
        payload=payload,
        headers=current_carrier(),
    )


def _approved_request(row: CaseRow) -> ConnectorRequest:
    return _request(row, POST, approved_document(row))


async def _exchange(
    step: InvoiceStep, row: CaseRow, connector: str, request: ConnectorRequest
) -> ConnectorResponse:
    """The worker's call; an ERP refusal (a validation error) is kept with its wire bytes
    before the job is dead-lettered, so the ERP's own message can be read and replayed."""
    try:
        return await step.call(connector, request)
    except Exception as exc:
        refused = exc.__cause__  # the worker wraps the connector's error with its retry policy
        if isinstance(refused, PermanentError) and refused.wire_response:
            runtime = step.runtime
            wire_format = (await runtime.connectors.get(connector)).wire_format
            at = datetime.now(UTC)
            kept = exchange_messages(row, refused, wire_format, at, error=refused.reason)
            async with runtime.store.begin() as conn:
                await cases.add_messages(conn, runtime.store.cipher, kept)
        raise


def _approved(
    case_id: str, current: CaseStatus, now: datetime, facts: dict[str, Any]
) -> DomainEvent:
    data = {"outcome": CaseStatus.approved.value, **{k: v for k, v in facts.items() if v}}
    return transition_event(case_id, current, CaseStatus.approved, now, data)


async def _review_item(
    runtime: Runtime, row: CaseRow, found: Sequence[Discrepancy], now: datetime
) -> NewWorkItem:
    """The approver's work item: the queue of the policy decision's hold, if it named one (the
    approver who already looked at this invoice), else the AP exceptions queue."""
    settings: InvoiceSettings = runtime.settings.invoices
    async with runtime.store.connect() as conn:
        stored = await get_case_policy(conn, row.id)
    holds = (stored.decision.get("hold_reasons") if stored else None) or []
    queue, role = settings.exception_queue, settings.exception_role
    if holds:
        queue, role = holds[0]["queue"], holds[0]["role"]
    due = stored.sla_due_at if stored else now + timedelta(hours=settings.review_within_hours)
    kinds = sorted({d.kind.value for d in found})
    return NewWorkItem(
        id=new_id(),
        tenant=row.tenant,
        case_id=row.id,
        kind=REVIEW_KIND,
        queue=queue,
        role=role,
        detail={
            "reason": f"the invoice does not match its order and receipts: {', '.join(kinds)}",
            "discrepancies": [d.model_dump(mode="json") for d in found],
        },
        sla_due_at=max(due, now),
        created_at=now,
    )


def _opened(
    row: CaseRow,
    invoice: InvoiceExceptionRequest,
    found: Sequence[Discrepancy],
    item: NewWorkItem,
    now: datetime,
) -> list[DomainEvent]:
    """Pended, then the exception itself: its invoice facts (no PHI on an invoice) and the
    discrepancies, which the catalog leaves out of the published event."""
    pended = transition_event(
        row.id, CaseStatus.submitted, CaseStatus.pended, now, {"reason_code": MISMATCH_REASON}
    )
    facts = {
        "supplier_id": invoice.supplier_id,
        "invoice_number": invoice.invoice_number,
        "purchase_order_number": invoice.purchase_order_number,
        "currency": invoice.currency,
        "discrepancies": [d.model_dump(mode="json") for d in found],
        "work_item": item.id,
        "queue": item.queue,
    }
    return [pended, note_event(row.id, CaseStatus.pended, "exception_opened", now, facts)]


@dataclass(frozen=True)
class _Outcome:
    route: str
    status: CaseStatus
    events: list[DomainEvent]
    exchanges: list[ConnectorResponse]
    work_items: Sequence[NewWorkItem] = ()


async def _settle(step: InvoiceStep, row: CaseRow, outcome: _Outcome) -> None:
    """The step's end in one transaction: job done, case moved, events, messages, work item."""
    at = datetime.now(UTC)
    status = outcome.status
    decision = {"outcome": status.value} if status in DECIDED_STATUSES else None
    messages = [
        message
        for exchange in outcome.exchanges
        for message in exchange_messages(row, exchange, exchange.wire_format, at)
    ]
    store = step.runtime.store
    async with store.begin() as conn:
        if not await outbox.complete_job(conn, step.job.id, step.owner):
            return  # the lease went to another worker, which records the step itself
        if not await cases.update_case(
            conn,
            row.id,
            row.version,
            status=status.value,
            decision=decision,
            route=outcome.route,
            decided=decision is not None,
        ):
            raise TransientError("the case changed during the send; will retry")
        await cases.append_events(conn, [event_record(e) for e in outcome.events])
        await cases.add_messages(conn, store.cipher, messages)
        await add_work_items(conn, outcome.work_items)
        detail = {"send": step.job.kind, "status": status.value}
        await audit.append_audit(conn, [worker_audit(row, step.owner, detail)])
