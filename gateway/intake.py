"""Turning an accepted request into the rows one transaction writes.

Every edge (the canonical API now; FHIR, HL7 and X12 intake later) builds the same record: the
case, its first event, the job that moves it, the raw message and an audit entry. The group
committer writes them together, so the caller is answered only once all of them are durable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from canonical.cases import CasePayload, CaseType, payer_of
from canonical.events import DomainEvent, case_created
from canonical.status import CaseStatus
from gateway.phi import IdentifierHasher
from gateway.store.ids import new_id
from gateway.store.intake import IntakeRecord
from gateway.store.records import (
    IdempotencyClaim,
    NewAuditEntry,
    NewCase,
    NewEvent,
    NewJob,
    NewMessage,
)

SEND_JOB = "case.send"
FOLLOW_UP_JOB = "case.follow_up"


@dataclass(frozen=True)
class Caller:
    """Who is asking, as the audit trail records it."""

    client_id: str
    tenant: str
    token_jti: str | None
    source_address: str | None


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
    return json.dumps(
        {
            "id": case_id,
            "status": status.value,
            "links": {"self": f"/v1/cases/{case_id}", "events": f"/v1/cases/{case_id}/events"},
        }
    ).encode()


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
) -> IntakeRecord:
    now = datetime.now(UTC)
    case_id = new_id()
    payer = payer_of(payload)
    urgency = getattr(payload, "urgency", None)
    created = case_created(case_id, CaseStatus.draft, now)
    event = event_record(
        created.model_copy(update={"data": {"trace_id": trace_id} if trace_id else {}})
    )
    claim = None
    if idempotency_key is not None:
        claim = IdempotencyClaim(
            client_id=caller.client_id,
            key=idempotency_key,
            fingerprint=fingerprint(raw),
            response_status=202,
            response_body=accepted_body(case_id, CaseStatus.draft),
        )
    return IntakeRecord(
        idempotency=claim,
        case=NewCase(
            id=case_id,
            tenant=caller.tenant,
            type=case_type.value,
            status=CaseStatus.draft.value,
            payer_id=payer,
            urgency=urgency.value if urgency is not None else "standard",
            payload=payload.model_dump(mode="json"),
            created_at=now,
        ),
        event=event,
        job=NewJob(
            kind=SEND_JOB,
            case_id=case_id,
            connector=None,
            payload={},
            trace_context=trace_context,
            available_at=now,
        ),
        message=NewMessage(
            id=new_id(),
            tenant=caller.tenant,
            case_id=case_id,
            direction="inbound",
            format=wire_format,
            body=raw,
            error=None,
            created_at=now,
        ),
        audit=NewAuditEntry(
            action="C",
            outcome="0",
            client_id=caller.client_id,
            token_jti=caller.token_jti,
            source_address=caller.source_address,
            case_id=case_id,
            patient_hash=hasher.patient_ref(payload),
            payer_id=payer,
            purpose="HOPERAT",
            trace_id=trace_id,
            detail={"case_type": case_type.value},
        ),
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
        message=NewMessage(
            id=new_id(),
            tenant=caller.tenant,
            case_id=None,
            direction="inbound",
            format=wire_format,
            body=raw,
            error=error,
            created_at=now,
        ),
        audit=NewAuditEntry(
            action="C",
            outcome="4",
            client_id=caller.client_id,
            token_jti=caller.token_jti,
            source_address=caller.source_address,
            case_id=None,
            patient_hash=None,
            payer_id=None,
            purpose="HOPERAT",
            trace_id=trace_id,
            detail={"rejected": error[:500]},
        ),
    )
