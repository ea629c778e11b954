"""Reading and changing cases. Every lookup is scoped to the caller's tenant: another tenant's
case answers 404 exactly as a missing one does (OWASP API1).

Every read of a case is an audit entry, committed before the answer leaves (no PHI is disclosed
unaudited); so is every 404, with the requested id as a keyed hash: a probe for other tenants'
cases shows up in the trail, and an id typed by the caller (which could be a member id) does not.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from canonical.cases import CaseType
from canonical.clinical import Attachment
from canonical.events import note_event, transition_event
from canonical.status import CaseStatus, IllegalTransition
from gateway.api.intake import caller_of
from gateway.api.views import (
    AttachmentUpload,
    CancelRequest,
    CasePage,
    CaseSummary,
    CaseView,
    EventView,
)
from gateway.audit.entries import (
    CASE_HISTORY_READ,
    CASE_NOT_FOUND,
    CASE_READ,
    CASE_SEARCH,
    REFUSED,
    SUCCESS,
)
from gateway.audit.writer import AuditStoppedError
from gateway.auth.guards import require_scopes
from gateway.dispatch.cancellation import cancellation_job
from gateway.intake import Caller, event_record
from gateway.problems import Problem
from gateway.runtime import Runtime, runtime_of
from gateway.store import audit, cases, outbox
from gateway.store.records import CaseRow, NewAuditEntry
from gateway.telemetry import current_trace_id

CaseId = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")]
_ATTACHABLE = {CaseType.prior_authorization.value, CaseType.denial_appeal.value}
_MAX_ATTACHMENT_REQUEST = 30 * 1024 * 1024


class _CaseMissing(Exception):
    """No such case for this tenant: raised inside a transaction, answered outside it."""


async def _record(runtime: Runtime, entry: NewAuditEntry) -> None:
    """Wait until the entry is durable. Call it outside any write transaction: on SQLite the
    audit writer needs the write lock that transaction holds."""
    try:
        await runtime.audit.record(entry)
    except AuditStoppedError:
        raise Problem(
            503,
            "Audit unavailable",
            "the gateway is stopping and cannot audit this request; retry",
            "audit-unavailable",
            headers={"Retry-After": "1"},
        ) from None


@asynccontextmanager
async def _audited_lookup(
    runtime: Runtime, caller: Caller, case_id: str, action: str
) -> AsyncIterator[None]:
    """Turn `_CaseMissing` into an audited 404 once the transactions inside have ended."""
    try:
        yield
    except _CaseMissing:
        detail = {"event": CASE_NOT_FOUND, "requested_case": runtime.hasher.hash("case", case_id)}
        await _record(
            runtime, caller.audit(action, REFUSED, trace_id=current_trace_id(), detail=detail)
        )
        raise Problem(404, "Not Found", "no such case", "not-found") from None


def _read(runtime: Runtime, caller: Caller, row: CaseRow, event: str) -> NewAuditEntry:
    return caller.audit(
        "R",
        SUCCESS,
        case_id=row.id,
        patient_hash=runtime.hasher.stored_patient_ref(row.payload),
        payer_id=row.payer_id,
        trace_id=current_trace_id(),
        detail={"event": event},
    )


def _changed(caller: Caller, row: CaseRow, detail: dict[str, Any]) -> NewAuditEntry:
    trace_id = current_trace_id()
    return caller.audit(
        "U", "0", case_id=row.id, payer_id=row.payer_id, trace_id=trace_id, detail=detail
    )


def _changed_meanwhile() -> Problem:
    return Problem(409, "Conflict", "the case changed meanwhile; retry", "version-conflict")


async def _load(runtime: Runtime, caller: Caller, case_id: str) -> CaseRow:
    async with _audited_lookup(runtime, caller, case_id, "R"), runtime.store.connect() as conn:
        row = await cases.get_case(conn, case_id, caller.tenant)
        if row is None:
            raise _CaseMissing
    return row


@get("/v1/cases/{case_id:str}", guards=[require_scopes("cases:read")], tags=["cases"])
async def read_case(request: Request[Any, Any, Any], case_id: CaseId) -> CaseView:
    runtime = runtime_of(request)
    caller = caller_of(request)
    row = await _load(runtime, caller, case_id)
    await _record(runtime, _read(runtime, caller, row, CASE_READ))
    return CaseView.of(row)


@get("/v1/cases/{case_id:str}/events", guards=[require_scopes("cases:read")], tags=["cases"])
async def read_events(request: Request[Any, Any, Any], case_id: CaseId) -> list[EventView]:
    runtime = runtime_of(request)
    caller = caller_of(request)
    row = await _load(runtime, caller, case_id)
    async with runtime.store.connect() as conn:
        rows = await cases.list_events(conn, case_id)
    await _record(runtime, _read(runtime, caller, row, CASE_HISTORY_READ))
    return [EventView.of(r) for r in rows]


@get("/v1/cases", guards=[require_scopes("cases:read")], tags=["cases"])
async def list_cases(
    request: Request[Any, Any, Any],
    *,
    type: Annotated[CaseType | None, QueryParameter()] = None,
    status: Annotated[CaseStatus | None, QueryParameter()] = None,
    payer: Annotated[
        str | None, QueryParameter(max_length=80, pattern=r"^[A-Za-z0-9._\-]+$")
    ] = None,
    cursor: Annotated[
        str | None,
        QueryParameter(
            pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$",
            description="Opaque position from the previous page's next_cursor.",
        ),
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> CasePage:
    runtime = runtime_of(request)
    caller = caller_of(request)
    async with runtime.store.connect() as conn:
        rows = await cases.list_cases(
            conn,
            caller.tenant,
            type=type.value if type else None,
            status=status.value if status else None,
            payer_id=payer,
            after_id=cursor,
            limit=limit + 1,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = rows[-1].id if more else None
    # The payer filter is free text from the caller: it is kept only once it named a real payer.
    filters = {"type": type.value if type else None, "status": status.value if status else None}
    search = caller.audit(
        "R",
        SUCCESS,
        payer_id=payer if rows and payer is not None else None,
        trace_id=current_trace_id(),
        detail={"event": CASE_SEARCH, "count": len(rows), "filters": filters},
    )
    await _record(runtime, search)
    return CasePage(items=[CaseSummary.of(r) for r in rows], next_cursor=next_cursor)


@post(
    "/v1/cases/{case_id:str}/cancel",
    status_code=200,
    guards=[require_scopes("cases:write")],
    tags=["cases"],
)
async def cancel_case(
    request: Request[Any, Any, Any], case_id: CaseId, data: JSONBody[CancelRequest | None] = None
) -> CaseView:
    runtime = runtime_of(request)
    caller = caller_of(request)
    now = datetime.now(UTC)
    async with (
        _audited_lookup(runtime, caller, case_id, "U"),
        runtime.store.begin() as conn,
    ):
        row = await cases.get_case(conn, case_id, caller.tenant)
        if row is None:
            raise _CaseMissing
        try:
            event = transition_event(
                row.id,
                CaseStatus(row.status),
                CaseStatus.cancelled,
                now,
                {"reason": "cancelled by request", "by": caller.client_id},
            )
        except IllegalTransition as exc:
            raise Problem(409, "Illegal transition", str(exc), "illegal-transition") from None
        if not await cases.update_case(
            conn, row.id, row.version, status=CaseStatus.cancelled.value
        ):
            raise _changed_meanwhile()
        await cases.append_event(conn, event_record(event))
        # A case the payer already holds is withdrawn there too, by a job in this same commit.
        tell_payer = cancellation_job(row, now)
        if tell_payer is not None:
            await outbox.enqueue(conn, tell_payer)
        await audit.append_audit(conn, [_changed(caller, row, {"cancel": True})])
        updated = await cases.get_case(conn, row.id, caller.tenant)
    assert updated is not None
    return CaseView.of(updated)


@post(
    "/v1/cases/{case_id:str}/attachments",
    status_code=201,
    guards=[require_scopes("cases:write")],
    tags=["cases"],
    request_max_body_size=_MAX_ATTACHMENT_REQUEST,
)
async def add_attachment(
    request: Request[Any, Any, Any], case_id: CaseId, data: JSONBody[AttachmentUpload]
) -> Attachment:
    runtime = runtime_of(request)
    caller = caller_of(request)
    content = data.content()
    now = datetime.now(UTC)
    message = caller.inbound(
        content, f"attachment:{data.media_type}", now, case_id=case_id, error=None
    )
    attachment = Attachment(
        kind=data.kind,
        media_type=data.media_type,
        title=data.title,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        message_id=message.id,
    )
    async with (
        _audited_lookup(runtime, caller, case_id, "U"),
        runtime.store.begin() as conn,
    ):
        row = await cases.get_case(conn, case_id, caller.tenant)
        if row is None:
            raise _CaseMissing
        if row.type not in _ATTACHABLE:
            raise Problem(
                409, "No attachments", "this case type carries no attachments", "no-attachments"
            )
        # The stored payload is not validated again: a case accepted with data findings (the
        # PAS facade) is held for a person to correct, and its documents may come first.
        attachments = list(row.payload.get("attachments") or [])
        if len(attachments) >= 20:
            raise Problem(422, "Too many attachments", "a case carries at most 20", "too-many")
        attachments.append(attachment.model_dump(mode="json"))
        payload = {**row.payload, "attachments": attachments}
        if not await cases.update_case(
            conn, row.id, row.version, status=row.status, payload=payload
        ):
            raise _changed_meanwhile()
        await cases.add_message(conn, runtime.store.cipher, message)
        event = note_event(
            row.id, CaseStatus(row.status), "attachment_added", now, {"sha256": attachment.sha256}
        )
        await cases.append_event(conn, event_record(event))
        await audit.append_audit(conn, [_changed(caller, row, {"attachment": message.id})])
    return attachment


CASE_HANDLERS = [read_case, read_events, list_cases, cancel_case, add_attachment]
