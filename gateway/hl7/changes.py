"""How a later HL7 message changes a case an order opened.

A cancel (ORC-1 CA/DC, SIU^S15) cancels the case while the status machine allows it; a changed
order replaces the request while nothing has gone to the payer; a reschedule moves the dates of
the lines it books; a registration update takes the new coverage when it is the same payer's; a
document becomes an attachment whose bytes stay in the stored message. Whatever cannot be
applied (the case has moved on) is recorded as a note for a person instead. Event data carries
no clinical values, only what happened and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from canonical.cases import PriorAuthorizationRequest
from canonical.events import DomainEvent, note_event, transition_event
from canonical.status import ALLOWED_TRANSITIONS, OPEN_STATUSES, CaseStatus
from gateway.store.records import CaseRow
from mappings.hl7v2 import (
    DocumentEvent,
    InboundEvent,
    OrderCancellation,
    PriorAuthorizationOrder,
    RegistrationEvent,
    SchedulingEvent,
)
from mappings.hl7v2.events import SchedulingAction

MAX_ATTACHMENTS = 20


@dataclass(frozen=True, slots=True)
class CaseChange:
    """One case's new status and payload (None: unchanged), and the event that says why."""

    case_id: str
    expected_version: int
    status: CaseStatus
    payload: dict[str, Any] | None
    event: DomainEvent


def change_for(
    row: CaseRow, event: InboundEvent, message_id: str, at: datetime
) -> CaseChange | None:
    """What `event` does to the case in `row`; None when it concerns a case no longer open."""
    status = CaseStatus(row.status)
    if status not in OPEN_STATUSES:
        return None
    if isinstance(event, OrderCancellation):
        return _cancel(row, status, at, "order_cancelled")
    if isinstance(event, SchedulingEvent):
        if event.action is SchedulingAction.cancelled:
            return _cancel(row, status, at, "appointment_cancelled")
        return _reschedule(row, status, event, at)
    if isinstance(event, PriorAuthorizationOrder):
        if not _unsent(row, status):
            return _note(row, status, at, "order_changed_after_send", {})
        payload = event.request.model_dump(mode="json")
        return CaseChange(
            row.id, row.version, status, payload, _event(row, status, at, "order_changed", {})
        )
    if isinstance(event, RegistrationEvent):
        return _coverage(row, status, event, at)
    return _attach(row, status, event, message_id, at)


def _unsent(row: CaseRow, status: CaseStatus) -> bool:
    """Nothing has gone to the payer: a draft, or a case policy held at intake for a person
    (waiting, never routed), which is sent with whatever it holds once the person resolves it."""
    held = status is CaseStatus.more_info_requested and row.route is None
    return status is CaseStatus.draft or held


def _event(
    row: CaseRow, status: CaseStatus, at: datetime, kind: str, data: dict[str, Any]
) -> DomainEvent:
    return note_event(row.id, status, kind, at, {"source": "hl7v2", **data})


def _note(
    row: CaseRow, status: CaseStatus, at: datetime, kind: str, data: dict[str, Any]
) -> CaseChange:
    return CaseChange(row.id, row.version, status, None, _event(row, status, at, kind, data))


def _cancel(row: CaseRow, status: CaseStatus, at: datetime, reason: str) -> CaseChange:
    if CaseStatus.cancelled not in ALLOWED_TRANSITIONS[status]:
        return _note(row, status, at, "cancel_not_applied", {"reason": reason})
    event = transition_event(
        row.id, status, CaseStatus.cancelled, at, {"source": "hl7v2", "reason": reason}
    )
    return CaseChange(row.id, row.version, CaseStatus.cancelled, None, event)


def _validated(payload: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return PriorAuthorizationRequest.model_validate(payload).model_dump(mode="json")
    except ValidationError:
        return None


def _reschedule(
    row: CaseRow, status: CaseStatus, event: SchedulingEvent, at: datetime
) -> CaseChange:
    kind = f"appointment_{event.action.value}"
    if not _unsent(row, status):
        return _note(row, status, at, kind, {"applied": False})
    payload = dict(row.payload)
    lines = [dict(line) for line in payload.get("service_lines", [])]
    moved = 0
    for service in event.services:
        day = service.service_date or (service.start.date() if service.start else None)
        if day is None:
            continue
        for line in lines:
            if line.get("procedure_code") == service.code:
                period = dict(line["service_period"])
                period["start"] = day.isoformat()
                if period.get("end") and period["end"] < period["start"]:
                    period["end"] = period["start"]
                line["service_period"] = period
                moved += 1
    payload["service_lines"] = lines
    changed = _validated(payload) if moved else None
    return CaseChange(
        row.id,
        row.version,
        status,
        changed,
        _event(row, status, at, kind, {"applied": changed is not None}),
    )


def _coverage(
    row: CaseRow, status: CaseStatus, event: RegistrationEvent, at: datetime
) -> CaseChange | None:
    primary = min(event.coverages, key=lambda c: c.priority, default=None)
    if primary is None:
        return None
    if primary.payer.id != row.payer_id:
        # Another payer: the case would have to go elsewhere, which a person decides.
        return _note(row, status, at, "coverage_changed", {"same_payer": False})
    payload = dict(row.payload)
    payload["coverage"] = primary.coverage.model_dump(mode="json")
    changed = _validated(payload)
    return CaseChange(
        row.id,
        row.version,
        status,
        changed,
        _event(row, status, at, "coverage_changed", {"same_payer": True}),
    )


def _attach(
    row: CaseRow, status: CaseStatus, event: DocumentEvent, message_id: str, at: datetime
) -> CaseChange:
    payload = dict(row.payload)
    attachments = list(payload.get("attachments", []))
    if len(attachments) >= MAX_ATTACHMENTS:
        return _note(row, status, at, "attachment_not_added", {"reason": "too_many"})
    attachment = event.attachment.model_copy(update={"message_id": message_id})
    attachments.append(attachment.model_dump(mode="json"))
    payload["attachments"] = attachments
    changed = _validated(payload)
    data = {"kind": attachment.kind, "message_id": message_id, "applied": changed is not None}
    return CaseChange(
        row.id, row.version, status, changed, _event(row, status, at, "attachment_added", data)
    )
