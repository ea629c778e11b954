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
from typing import Any

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
    event = event_record(
        case_created(case_id, CaseStatus.draft, now, {"trace_id": trace_id} if trace_id else None)
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
