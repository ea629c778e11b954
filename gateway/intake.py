"""Turning an accepted request into the rows one transaction writes.

Every edge (the canonical API now; FHIR, HL7 and X12 intake later) builds the same record: the
case, its first event, the job that moves it, the raw message and an audit entry. The group
committer writes them together, so the caller is answered only once all of them are durable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from canonical.cases import CasePayload, CaseType, payer_of
from canonical.events import DomainEvent, case_created
from canonical.status import CaseStatus
from gateway.orchestration.decisions import decide, plan_case
from gateway.phi import IdentifierHasher
from gateway.store.ids import new_id
from gateway.store.intake import IntakeRecord
from gateway.store.records import (
    IdempotencyClaim,
    JsonText,
    NewAuditEntry,
    NewCase,
    NewEvent,
    NewJob,
    NewMessage,
)
from policies.book import PolicyBook
from policies.decision import PolicyDecision

CANONICAL_JSON = "canonical-json"
SEND_JOB = "case.send"
FOLLOW_UP_JOB = "case.follow_up"


@dataclass(frozen=True)
class Caller:
    """Who is asking, as the audit trail records it."""

    client_id: str
    tenant: str
    token_jti: str | None
    source_address: str | None

    def audit(
        self,
        action: str,
        outcome: str,
        *,
        trace_id: str | None,
        detail: dict[str, Any],
        case_id: str | None = None,
        patient_hash: str | None = None,
        payer_id: str | None = None,
    ) -> NewAuditEntry:
        """An audit entry with this caller as the agent (AuditEvent action C/R/U/D/E)."""
        return NewAuditEntry(
            action=action,
            outcome=outcome,
            client_id=self.client_id,
            token_jti=self.token_jti,
            source_address=self.source_address,
            case_id=case_id,
            patient_hash=patient_hash,
            payer_id=payer_id,
            purpose="HOPERAT",
            trace_id=trace_id,
            detail=detail,
        )

    def inbound(
        self, raw: bytes, wire_format: str, at: datetime, *, case_id: str | None, error: str | None
    ) -> NewMessage:
        return NewMessage(
            id=new_id(),
            tenant=self.tenant,
            case_id=case_id,
            direction="inbound",
            format=wire_format,
            body=raw,
            error=error,
            created_at=at,
        )


def canonical_format(case_type: CaseType) -> str:
    """The stored format of a canonical request: which case type it was sent to open."""
    return f"{CANONICAL_JSON}/{case_type.value}"


def event_record(event: DomainEvent) -> NewEvent:
    return NewEvent(
        case_id=event.case_id,
        type=event.type,
        from_status=event.from_status.value if event.from_status else None,
        to_status=event.to_status.value,
        data=event.data,
        occurred_at=event.occurred_at,
    )


def fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def accepted_body(case_id: str, status: CaseStatus) -> bytes:
    """The 202 body, the bytes `json.dumps` would give: formatted, since a ULID and a status
    name need no escaping, and every accepted request pays for it."""
    links = f'{{"self": "/v1/cases/{case_id}", "events": "/v1/cases/{case_id}/events"}}'
    return f'{{"id": "{case_id}", "status": "{status.value}", "links": {links}}}'.encode()


def accepted_case(
    *,
    case_type: CaseType,
    payload: CasePayload,
    raw: bytes,
    wire_format: str,
    caller: Caller,
    idempotency_key: str | None,
    hasher: IdentifierHasher,
    trace_context: dict[str, str],
    trace_id: str | None,
    policies: PolicyBook | None = None,
    decided: PolicyDecision | None = None,
) -> IntakeRecord:
    """With `policies`, the case is decided in the same commit: a held case is created waiting
    for a person (work items instead of a send job), any other is sent on the decision's route.
    An edge that decided already (to know whether to open a case at all) passes that decision
    as `decided`, and it is used as made."""
    now = datetime.now(UTC)
    case_id = new_id()
    payer = payer_of(payload)
    urgency = getattr(payload, "urgency", None)
    decision = decided
    if decision is None and policies is not None:
        decision = decide(policies, case_type, payload, now)
    plan = None
    if decision is not None:
        plan = plan_case(decision, case_id=case_id, tenant=caller.tenant, now=now)
    status = CaseStatus.more_info_requested if plan and plan.held else CaseStatus.draft
    facts: dict[str, Any] = {"trace_id": trace_id} if trace_id else {}
    if plan is not None and plan.held:
        facts.update(plan.held_facts())
    event = event_record(case_created(case_id, status, now, facts or None))
    claim = None
    if idempotency_key is not None:
        claim = IdempotencyClaim(
            client_id=caller.client_id,
            key=idempotency_key,
            fingerprint=fingerprint(raw),
            response_status=202,
            response_body=accepted_body(case_id, status),
        )
    return IntakeRecord(
        idempotency=claim,
        case=NewCase(
            id=case_id,
            tenant=caller.tenant,
            type=case_type.value,
            status=status.value,
            payer_id=payer,
            urgency=urgency.value if urgency is not None else "standard",
            payload=JsonText(payload.model_dump_json()),
            created_at=now,
        ),
        event=event,
        job=None
        if plan is not None and plan.held
        else NewJob(
            kind=SEND_JOB,
            case_id=case_id,
            connector=None,
            payload=plan.send_payload() if plan else {},
            trace_context=trace_context,
            available_at=now,
        ),
        message=caller.inbound(raw, wire_format, now, case_id=case_id, error=None),
        audit=caller.audit(
            "C",
            "0",
            case_id=case_id,
            patient_hash=hasher.patient_ref(payload),
            payer_id=payer,
            trace_id=trace_id,
            detail={"case_type": case_type.value},
        ),
        policy=plan.policy if plan else None,
        work_items=tuple(plan.work_items) if plan else (),
    )


def rejected_input(
    *, raw: bytes, wire_format: str, caller: Caller, error: str, trace_id: str | None
) -> IntakeRecord:
    """Bad input is kept, encrypted, with its located error so it can be replayed after a fix."""
    now = datetime.now(UTC)
    return IntakeRecord(
        idempotency=None,
        case=None,
        event=None,
        job=None,
        message=caller.inbound(raw, wire_format, now, case_id=None, error=error),
        audit=caller.audit("C", "4", trace_id=trace_id, detail={"rejected": error[:500]}),
    )
