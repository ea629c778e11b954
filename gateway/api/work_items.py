"""Work queues over HTTP, and the policy decision of a case with the rules that made it.

Every change to a work item is audited in its own transaction, as case changes are; every list
and every decision read is audited before the answer leaves. Items of other tenants answer 404
exactly as missing ones do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from pydantic import Field

from canonical.cases import PAYLOAD_MODELS, CaseType
from gateway.api.cases import CaseId, _load, _record
from gateway.api.intake import caller_of
from gateway.api.views import AttachmentUpload, View
from gateway.audit.entries import REFUSED, SUCCESS
from gateway.auth.guards import require_scopes
from gateway.intake import Caller
from gateway.invoices import flow as invoices
from gateway.orchestration import work
from gateway.problems import FieldError, Problem
from gateway.runtime import Runtime, runtime_of
from gateway.store import audit, cases
from gateway.store.work import (
    CasePolicyRow,
    WorkItemRow,
    get_case_policy,
    get_work_item,
    list_work_items,
)
from gateway.telemetry import current_carrier, current_trace_id
from mappings.pointers import located
from policies.decision import PolicyDecision
from policies.explain import explain

WORK_ITEM_SEARCH = "work_item.search"
WORK_ITEM_NOT_FOUND = "work_item.not_found"
DECISION_READ = "case.decision.read"

ItemId = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")]
Name = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._:@\-]+$")]
_MAX_RESOLVE_REQUEST = 30 * 1024 * 1024


class WorkItemView(View):
    id: str
    case_id: str
    kind: str = Field(description="missing_documents, missing_fields, low_confidence, ...")
    queue: str
    role: str
    status: str = Field(description="open, claimed or resolved.")
    assignee: str | None
    escalation_level: int
    sla_due_at: datetime
    sla_breached: bool
    detail: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None

    @classmethod
    def of(cls, row: WorkItemRow, now: datetime) -> WorkItemView:
        fields = {name: getattr(row, name) for name in cls.model_fields if name != "sla_breached"}
        breached = row.status != "resolved" and row.sla_due_at <= now
        return cls(**fields, sla_breached=breached)


class WorkItemPage(View):
    items: list[WorkItemView]
    next_cursor: str | None


class AssignRequest(View):
    assignee: Name


class ResolveRequest(View):
    attachments: list[AttachmentUpload] = Field(default_factory=list, max_length=20)
    fields: dict[str, Any] = Field(
        default_factory=dict,
        max_length=50,
        description="Top-level fields of the case request to replace, e.g. rendering_provider.",
    )
    decision: invoices.ExceptionDecision | None = Field(
        default=None,
        description="An invoice exception's decision: approve posts it to AP, reject denies it.",
    )


class ResolveResult(View):
    work_item: WorkItemView
    case_status: str
    sent: bool = Field(description="True when the case was complete and went to the payer.")
    still_held: list[str] = Field(description="Kinds of hold that still need a person.")


class DecisionView(View):
    case_id: str
    pack_id: str
    pack_version: str
    fired_rules: list[str]
    sla_due_at: datetime
    sla_breached_at: datetime | None
    escalations_raised: int
    decided_at: datetime
    decision: dict[str, Any] = Field(description="The stored decision, fired rules with why.")
    explanation: list[str] = Field(description="The decision in words, one line each.")

    @classmethod
    def of(cls, row: CasePolicyRow) -> DecisionView:
        return cls(
            case_id=row.case_id,
            pack_id=row.pack_id,
            pack_version=row.pack_version,
            fired_rules=row.fired_rules,
            sla_due_at=row.sla_due_at,
            sla_breached_at=row.sla_breached_at,
            escalations_raised=row.rungs_raised,
            decided_at=row.decided_at,
            decision=row.decision,
            explanation=explain(PolicyDecision.model_validate(row.decision)),
        )


def _changed(caller: Caller, item: WorkItemRow, payer_id: str, detail: dict[str, Any]) -> Any:
    return caller.audit(
        "U",
        SUCCESS,
        case_id=item.case_id,
        payer_id=payer_id,
        trace_id=current_trace_id(),
        detail={"work_item": item.id, **detail},
    )


async def _missing(runtime: Runtime, caller: Caller, item_id: str, action: str) -> Problem:
    detail = {"event": WORK_ITEM_NOT_FOUND, "requested": runtime.hasher.hash("work_item", item_id)}
    await _record(
        runtime, caller.audit(action, REFUSED, trace_id=current_trace_id(), detail=detail)
    )
    return Problem(404, "Not Found", "no such work item", "not-found")


def _conflict(exc: work.WorkItemConflict) -> Problem:
    return Problem(409, "Conflict", str(exc), "work-item-conflict")


@get("/v1/work-items", guards=[require_scopes("cases:read")], tags=["work-items"])
async def list_items(
    request: Request[Any, Any, Any],
    *,
    queue: Annotated[
        str | None, QueryParameter(max_length=120, pattern=r"^[A-Za-z0-9._:@\-]+$")
    ] = None,
    assignee: Annotated[
        str | None, QueryParameter(max_length=120, pattern=r"^[A-Za-z0-9._:@\-]+$")
    ] = None,
    sla_breach: Annotated[
        bool | None, QueryParameter(description="Only items past (true) or within (false) SLA.")
    ] = None,
    cursor: Annotated[
        str | None,
        QueryParameter(
            pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$",
            description="Opaque position from the previous page's next_cursor.",
        ),
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> WorkItemPage:
    """Open and claimed work items of the caller's tenant, oldest first."""
    runtime = runtime_of(request)
    caller = caller_of(request)
    now = datetime.now(UTC)
    async with runtime.store.connect() as conn:
        rows = await list_work_items(
            conn,
            caller.tenant,
            queue=queue,
            assignee=assignee,
            sla_breach=sla_breach,
            include_resolved=False,
            now=now,
            after_id=cursor,
            limit=limit + 1,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    filters = {"queue": queue, "assigned": assignee is not None, "sla_breach": sla_breach}
    search = caller.audit(
        "R",
        SUCCESS,
        trace_id=current_trace_id(),
        detail={"event": WORK_ITEM_SEARCH, "count": len(rows), "filters": filters},
    )
    await _record(runtime, search)
    return WorkItemPage(
        items=[WorkItemView.of(row, now) for row in rows],
        next_cursor=rows[-1].id if more else None,
    )


async def _assign(
    request: Request[Any, Any, Any], item_id: str, assignee: str, *, claim: bool
) -> WorkItemView:
    runtime = runtime_of(request)
    caller = caller_of(request)
    async with runtime.store.begin() as conn:
        item = await get_work_item(conn, item_id, caller.tenant)
        if item is not None:
            case = await cases.get_case(conn, item.case_id, caller.tenant)
            try:
                updated = await work.assign(conn, item, assignee, only_if_free=claim)
            except work.WorkItemConflict as exc:
                raise _conflict(exc) from None
            action = {"claimed" if claim else "assigned": True}
            payer = case.payer_id if case else ""
            await audit.append_audit(conn, [_changed(caller, item, payer, action)])
    if item is None:
        raise await _missing(runtime, caller, item_id, "U")
    return WorkItemView.of(updated, datetime.now(UTC))


@post(
    "/v1/work-items/{item_id:str}/claim",
    status_code=200,
    guards=[require_scopes("cases:write")],
    tags=["work-items"],
)
async def claim_item(request: Request[Any, Any, Any], item_id: ItemId) -> WorkItemView:
    """Take the item for the calling client; 409 if someone else holds it."""
    return await _assign(request, item_id, caller_of(request).client_id, claim=True)


@post(
    "/v1/work-items/{item_id:str}/assign",
    status_code=200,
    guards=[require_scopes("cases:write")],
    tags=["work-items"],
)
async def assign_item(
    request: Request[Any, Any, Any], item_id: ItemId, data: JSONBody[AssignRequest]
) -> WorkItemView:
    """Give the item to a named person or client, whoever holds it now."""
    return await _assign(request, item_id, data.assignee, claim=False)


@post(
    "/v1/work-items/{item_id:str}/resolve",
    status_code=200,
    guards=[require_scopes("cases:write")],
    tags=["work-items"],
    request_max_body_size=_MAX_RESOLVE_REQUEST,
)
async def resolve_item(
    request: Request[Any, Any, Any], item_id: ItemId, data: JSONBody[ResolveRequest]
) -> ResolveResult:
    """Resolve with the added documents or corrected fields; the case is decided again and
    sent if nothing holds it any more."""
    runtime = runtime_of(request)
    caller = caller_of(request)
    now = datetime.now(UTC)
    resolution = work.Resolution(
        documents=[
            work.AddedDocument(a.kind, a.media_type, a.title, a.content()) for a in data.attachments
        ],
        fields=data.fields,
    )
    async with runtime.store.begin() as conn:
        item = await get_work_item(conn, item_id, caller.tenant)
        case = None if item is None else await cases.get_case(conn, item.case_id, caller.tenant)
        if item is not None and case is not None:
            _known_fields(case.type, data.fields)
            _decision_fits(item.kind, data.decision)
            try:
                if data.decision is not None:
                    resumed = await invoices.decide_exception(
                        conn, item=item, case=case, caller=caller, decision=data.decision, now=now
                    )
                else:
                    resumed = await work.resolve(
                        conn,
                        runtime.store.cipher,
                        runtime.policies.book,
                        item=item,
                        case=case,
                        caller=caller,
                        resolution=resolution,
                        now=now,
                        trace_context=current_carrier(),
                    )
            except work.WorkItemConflict as exc:
                raise _conflict(exc) from None
            except work.InvalidCorrection as exc:
                raise _invalid(exc) from None
            detail = {"resolved": True, **resumed.item.detail["resolution"], "sent": resumed.sent}
            await audit.append_audit(conn, [_changed(caller, item, case.payer_id, detail)])
            status = (await cases.get_case(conn, case.id, caller.tenant) or case).status
    if item is None or case is None:
        raise await _missing(runtime, caller, item_id, "U")
    return ResolveResult(
        work_item=WorkItemView.of(resumed.item, now),
        case_status=status,
        sent=resumed.sent,
        still_held=resumed.still_held,
    )


def _known_fields(case_type: str, fields: dict[str, Any]) -> None:
    model = PAYLOAD_MODELS[CaseType(case_type)]
    unknown = sorted(name for name in fields if name not in model.model_fields)
    if unknown:
        errors = [FieldError(f"/fields/{name}", "not a field of this case") for name in unknown]
        raise Problem(422, "Invalid request", "unknown fields", "validation", errors)


def _decision_fits(kind: str, decision: str | None) -> None:
    """A decision is what resolves an invoice exception, and nothing else."""
    if (kind == invoices.REVIEW_KIND) == (decision is not None):
        return
    need = "approve or reject" if decision is None else "only an invoice exception takes one"
    errors = [FieldError("/decision", need)]
    raise Problem(422, "Invalid request", "a decision is needed", "validation", errors)


def _invalid(exc: work.InvalidCorrection) -> Problem:
    errors = [FieldError(f"/fields{pointer}", message) for pointer, message in located(exc.error)]
    return Problem(422, "Invalid request", "the corrected case is not valid", "validation", errors)


@get(
    "/v1/cases/{case_id:str}/decision",
    guards=[require_scopes("cases:read")],
    tags=["cases"],
)
async def read_decision(request: Request[Any, Any, Any], case_id: CaseId) -> DecisionView:
    """The policy decision stored with the case: pack version, the rules that fired and why."""
    runtime = runtime_of(request)
    caller = caller_of(request)
    row = await _load(runtime, caller, case_id)
    async with runtime.store.connect() as conn:
        stored = await get_case_policy(conn, case_id)
    entry = caller.audit(
        "R",
        SUCCESS,
        case_id=row.id,
        payer_id=row.payer_id,
        trace_id=current_trace_id(),
        detail={"event": DECISION_READ},
    )
    await _record(runtime, entry)
    if stored is None:
        raise Problem(404, "Not Found", "this case was not decided by a policy pack", "no-decision")
    return DecisionView.of(stored)


WORK_ITEM_HANDLERS = [list_items, claim_item, assign_item, resolve_item, read_decision]
