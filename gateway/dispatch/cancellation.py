"""Telling the payer that a case it holds was cancelled.

A case is cancelled locally at once (the API answers with the new status); when the payer had
already been sent the case (submitted or pended), the same commit queues a job that carries the
cancellation through the case's route. A route whose connector has no way to cancel leaves a
`case.payer_not_told` event and a work item instead of a dead letter: no retry or replay could
ever deliver it, and a person has to reach the payer another way (portal, phone).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from canonical.events import DomainEvent, note_event
from canonical.status import CaseStatus
from connectors.contract import ConnectorRequest, ConnectorResponse
from gateway.dispatch.records import exchange_messages, worker_audit
from gateway.intake import event_record
from gateway.orchestration.decisions import DEFAULT_QUEUE, DEFAULT_ROLE
from gateway.runtime import Runtime
from gateway.store import cases, outbox, work
from gateway.store.audit import append_audit
from gateway.store.ids import new_id
from gateway.store.records import CaseRow, JobRow, NewAuditEntry, NewJob, NewMessage
from gateway.telemetry import current_carrier

CANCEL_JOB = "case.cancel"
CANCEL = "prior_auth.cancel"
UNTOLD_KIND = "payer_not_told"
UNTOLD_WITHIN = timedelta(days=1)
# The payer has the case (and may be working on it) only once it was sent and not yet decided.
_AT_THE_PAYER = frozenset({CaseStatus.submitted, CaseStatus.pended})

Call = Callable[[str, ConnectorRequest], Awaitable[ConnectorResponse]]


def cancellation_job(row: CaseRow, now: datetime) -> NewJob | None:
    """The job that tells the payer of `row` (as it was before cancelling), or None when the
    payer never had the case."""
    if CaseStatus(row.status) not in _AT_THE_PAYER or row.route is None:
        return None
    reference = (row.decision or {}).get("payer_reference")
    return NewJob(
        kind=CANCEL_JOB,
        case_id=row.id,
        connector=row.route,
        payload={"payer_reference": reference},
        trace_context=current_carrier(),
        available_at=now,
    )


async def tell_payer(runtime: Runtime, job: JobRow, row: CaseRow, call: Call, owner: str) -> None:
    """Send the cancellation (one idempotency key per case) and record what the payer said."""
    name = job.connector
    if name is None:
        raise ValueError("a cancellation job names the connector of the case's route")
    connector = await runtime.connectors.get(name)
    now = datetime.now(UTC)
    status = CaseStatus(row.status)
    if CANCEL not in connector.capabilities:
        reason = f"connector {connector.name} cannot cancel"
        untold = note_event(row.id, status, UNTOLD_KIND, now, {"connector": name, "reason": reason})
        item = work.NewWorkItem(
            id=new_id(),
            tenant=row.tenant,
            case_id=row.id,
            kind=UNTOLD_KIND,
            queue=DEFAULT_QUEUE,
            role=DEFAULT_ROLE,
            detail={"reason": f"the case was cancelled but {reason}: tell the payer"},
            sla_due_at=now + UNTOLD_WITHIN,
            created_at=now,
        )
        await _settle(runtime, job, owner, untold, item=item)
        return
    request = ConnectorRequest(
        operation=CANCEL,
        idempotency_key=f"{row.id}:{CANCEL}",
        case_id=row.id,
        case_type=row.type,
        payload=row.payload,
        payer_reference=job.payload.get("payer_reference"),
        headers=current_carrier(),
    )
    response = await call(name, request)
    facts: dict[str, Any] = {"connector": name}
    if response.decision is not None:
        facts["payer_outcome"] = response.decision.outcome.value
    event = note_event(row.id, status, "payer_told", now, facts)
    messages = exchange_messages(row, response, response.wire_format, now)
    entry = worker_audit(row, owner, {"send": CANCEL_JOB, "connector": name})
    await _settle(runtime, job, owner, event, messages=messages, entry=entry)


async def _settle(
    runtime: Runtime,
    job: JobRow,
    owner: str,
    event: DomainEvent,
    *,
    messages: list[NewMessage] | None = None,
    entry: NewAuditEntry | None = None,
    item: work.NewWorkItem | None = None,
) -> None:
    """End the job and record its event, messages and audit entry, only while the lease is
    ours (a reclaimed job is recorded once, by whoever holds it)."""
    async with runtime.store.begin() as conn:
        if not await outbox.complete_job(conn, job.id, owner):
            return
        await cases.append_event(conn, event_record(event))
        if messages:
            await cases.add_messages(conn, runtime.store.cipher, messages)
        if entry is not None:
            await append_audit(conn, [entry])
        if item is not None:
            await work.add_work_items(conn, [item])
