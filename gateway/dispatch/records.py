"""The rows every step that talks to a far side writes for its case: the exact bytes it
exchanged (encrypted in the message store) and the audit entry of the send.

The worker, cancellations, EHR notices, invoice steps and payer notifications all record the
same things; building them here keeps their shape (and the audit trail) one thing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from gateway.store.ids import new_id
from gateway.store.records import CaseRow, Direction, NewAuditEntry, NewMessage
from gateway.telemetry import current_trace_id


class Exchange(Protocol):
    """What a connector answer or error carries of the wire: a format and both bodies."""

    @property
    def wire_request(self) -> bytes: ...

    @property
    def wire_response(self) -> bytes: ...


def case_message(
    row: CaseRow,
    direction: Direction,
    body: bytes,
    wire_format: str,
    at: datetime,
    *,
    error: str | None = None,
) -> NewMessage:
    return NewMessage(
        id=new_id(),
        tenant=row.tenant,
        case_id=row.id,
        direction=direction,
        format=wire_format,
        body=body,
        error=error,
        created_at=at,
    )


def exchange_messages(
    row: CaseRow,
    exchange: Exchange,
    wire_format: str,
    at: datetime,
    *,
    error: str | None = None,
) -> list[NewMessage]:
    """The request and the answer as sent and received; `error` goes with the answer."""
    return [
        case_message(row, "outbound", exchange.wire_request, wire_format, at),
        case_message(row, "inbound", exchange.wire_response, wire_format, at, error=error),
    ]


def worker_audit(row: CaseRow, owner: str, detail: dict[str, Any]) -> NewAuditEntry:
    """A worker's use of the case's data on the way to a far side (operations purpose)."""
    return NewAuditEntry(
        action="E",
        outcome="0",
        client_id=f"worker:{owner}",
        token_jti=None,
        source_address=None,
        case_id=row.id,
        patient_hash=None,
        payer_id=row.payer_id,
        purpose="HOPERAT",
        trace_id=current_trace_id(),
        detail=detail,
    )
