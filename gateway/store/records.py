"""What the store writes and reads, as plain frozen values.

Callers build `New*` values; queries return `*Row` values. No ORM identity or session state, so
rows can cross task boundaries and be cached freely.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Direction = Literal["inbound", "outbound"]
JobStatus = Literal["pending", "leased", "done", "dead"]


class JsonText(str):
    """A JSON document already serialized (by pydantic's serializer, on the intake path): a JSON
    column stores it as it is instead of serializing a dict a second time."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class NewCase:
    id: str
    tenant: str
    type: str
    status: str
    payer_id: str
    urgency: str
    payload: dict[str, Any] | JsonText
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewEvent:
    case_id: str
    type: str
    from_status: str | None
    to_status: str
    data: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class NewJob:
    kind: str
    case_id: str | None
    connector: str | None
    payload: dict[str, Any]
    trace_context: dict[str, str]
    available_at: datetime


@dataclass(frozen=True, slots=True)
class NewMessage:
    id: str
    tenant: str
    case_id: str | None
    direction: Direction
    format: str
    body: bytes
    error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewAuditEntry:
    action: str
    outcome: str
    client_id: str | None
    token_jti: str | None
    source_address: str | None
    case_id: str | None
    patient_hash: str | None
    payer_id: str | None
    purpose: str | None
    trace_id: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """A request's idempotency key with the answer to give if the same key comes again."""

    client_id: str
    key: str
    fingerprint: str
    response_status: int
    response_body: bytes


@dataclass(frozen=True, slots=True)
class CaseRow:
    id: str
    tenant: str
    type: str
    status: str
    version: int
    payer_id: str
    urgency: str
    route: str | None
    payload: dict[str, Any]
    decision: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    case_id: str
    seq: int
    type: str
    from_status: str | None
    to_status: str
    data: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class JobRow:
    id: int
    kind: str
    case_id: str | None
    connector: str | None
    payload: dict[str, Any]
    status: JobStatus
    attempts: int
    available_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error: str | None
    trace_context: dict[str, str]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MessageRow:
    """A stored message with its body already decrypted."""

    id: str
    tenant: str
    case_id: str | None
    direction: Direction
    format: str
    content_sha256: str
    body: bytes
    error: str | None
    created_at: datetime
    replayed_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    recorded: datetime
    action: str
    outcome: str
    client_id: str | None
    token_jti: str | None
    source_address: str | None
    case_id: str | None
    patient_hash: str | None
    payer_id: str | None
    purpose: str | None
    trace_id: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str
