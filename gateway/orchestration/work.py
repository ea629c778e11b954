"""What a person does with a work item: take it, hand it on, or resolve it with what was missing.

Resolving resumes the case in the same transaction: the added documents and corrected fields go
into the payload, the case is decided again (holds a person approved stay approved), and if
nothing holds it any more its send job is queued; otherwise the items still needed are opened.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from canonical.cases import PAYLOAD_MODELS, CaseType
from canonical.clinical import Attachment
from canonical.events import note_event
from canonical.status import CaseStatus
from gateway.intake import SEND_JOB, Caller, event_record
from gateway.orchestration.decisions import decide, plan_case
from gateway.store import cases, outbox
from gateway.store.cipher import MessageCipher
from gateway.store.records import CaseRow, NewJob, NewMessage
from gateway.store.work import (
    WorkItemRow,
    add_work_items,
    get_case_policy,
    open_work_items,
    replace_case_policy,
    resolved_kinds,
    update_work_item,
)
from policies.book import PolicyBook
from policies.decision import HoldKind

RESUMED_KEY = "resumed"
_MAX_ATTACHMENTS = 20
_HELD = CaseStatus.more_info_requested
_HOLD_KINDS = frozenset(kind.value for kind in HoldKind)


class WorkItemConflict(Exception):
    """The item or its case is not in a state that allows this change; the edge answers 409."""


class InvalidCorrection(Exception):
    """The corrected fields do not make a valid request; carries the validation error."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__("the corrected case is not valid")
        self.error = error


@dataclass(frozen=True)
class AddedDocument:
    kind: str
    media_type: str
    title: str
    content: bytes


@dataclass(frozen=True)
class Resolution:
    documents: Sequence[AddedDocument] = ()
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Resumed:
    item: WorkItemRow
    sent: bool
    still_held: list[str]


def _assignable(item: WorkItemRow) -> None:
    if item.status == "resolved":
        raise WorkItemConflict("the work item is already resolved")


async def assign(
    conn: AsyncConnection, item: WorkItemRow, assignee: str, *, only_if_free: bool
) -> WorkItemRow:
    """Give the item to `assignee`; a claim (only_if_free) fails on an item someone else holds."""
    _assignable(item)
    if only_if_free and item.status == "claimed" and item.assignee != assignee:
        raise WorkItemConflict("the work item is claimed by someone else")
    updated = await update_work_item(conn, item, status="claimed", assignee=assignee)
    if updated is None:
        raise WorkItemConflict("the work item changed meanwhile; retry")
    return updated


async def resolve(
    conn: AsyncConnection,
    cipher: MessageCipher,
    book: PolicyBook,
    *,
    item: WorkItemRow,
    case: CaseRow,
    caller: Caller,
    resolution: Resolution,
    now: datetime,
    trace_context: dict[str, str],
) -> Resumed:
    _assignable(item)
    payload, messages = _corrected(case, resolution, caller, now)
    resolved = await update_work_item(
        conn,
        item,
        status="resolved",
        resolved_at=now,
        assignee=item.assignee or caller.client_id,
        detail={**item.detail, "resolution": _summary(resolution)},
    )
    if resolved is None:
        raise WorkItemConflict("the work item changed meanwhile; retry")
    status = CaseStatus(case.status)
    if not await cases.update_case(
        conn, case.id, case.version, status=status.value, payload=payload
    ):
        raise WorkItemConflict("the case changed meanwhile; retry")
    await cases.add_messages(conn, cipher, messages)
    stored = await get_case_policy(conn, case.id)
    # Intake creates a held case as more_info_requested and never sends it; a payer's request
    # for more information comes after a send, so the case has a route and is not resumed here.
    held_by_policy = stored is not None and case.route is None and status is _HELD
    if not held_by_policy or item.kind not in _HOLD_KINDS:
        event = note_event(case.id, status, "work_item_resolved", now, {"work_item": item.id})
        await cases.append_event(conn, event_record(event))
        return Resumed(resolved, sent=False, still_held=[])
    return await _resume(
        conn, book, case=case, payload=payload, item=resolved, now=now, trace_context=trace_context
    )


async def _resume(
    conn: AsyncConnection,
    book: PolicyBook,
    *,
    case: CaseRow,
    payload: dict[str, Any],
    item: WorkItemRow,
    now: datetime,
    trace_context: dict[str, str],
) -> Resumed:
    status = CaseStatus(case.status)
    decision = decide(book, CaseType(case.type), payload, case.created_at)
    if decision is None:
        raise WorkItemConflict("no policy pack can decide this case now")
    stored = await get_case_policy(conn, case.id)
    assert stored is not None
    plan = plan_case(
        decision,
        case_id=case.id,
        tenant=case.tenant,
        now=now,
        waived=await resolved_kinds(conn, case.id),
        rungs_raised=stored.rungs_raised,
        breached=stored.sla_breached_at is not None,
    )
    await replace_case_policy(conn, plan.policy)
    needed = {new.kind for new in plan.work_items}
    open_items = [i for i in await open_work_items(conn, case.id) if i.kind in _HOLD_KINDS]
    for stale in open_items:
        if stale.kind not in needed:
            await update_work_item(
                conn, stale, status="resolved", resolved_at=now, detail=_superseded(stale)
            )
    have = {i.kind for i in open_items if i.kind in needed}
    await add_work_items(conn, [new for new in plan.work_items if new.kind not in have])
    facts: dict[str, Any] = {
        "work_item": item.id,
        "pack": f"{decision.pack_id} {decision.pack_version}",
    }
    if plan.held:
        facts.update(held=sorted(needed))
        event = note_event(case.id, status, "still_held", now, facts)
    else:
        job = NewJob(
            kind=SEND_JOB,
            case_id=case.id,
            connector=None,
            payload={**plan.send_payload(), RESUMED_KEY: True},
            trace_context=trace_context,
            available_at=now,
        )
        await outbox.enqueue(conn, job)
        event = note_event(case.id, status, "resumed", now, facts)
    await cases.append_event(conn, event_record(event))
    return Resumed(item, sent=not plan.held, still_held=sorted(needed))


def _superseded(item: WorkItemRow) -> dict[str, Any]:
    return {**item.detail, "resolution": {"superseded": True}}


def _corrected(
    case: CaseRow, resolution: Resolution, caller: Caller, now: datetime
) -> tuple[dict[str, Any], list[NewMessage]]:
    """The payload with the corrections merged and the documents attached, validated, and the
    documents as raw messages to keep."""
    model = PAYLOAD_MODELS[CaseType(case.type)]
    merged = {**case.payload, **resolution.fields}
    messages: list[NewMessage] = []
    if resolution.documents:
        attachments = list(merged.get("attachments") or [])
        if "attachments" not in model.model_fields:
            raise WorkItemConflict("this case type carries no attachments")
        if len(attachments) + len(resolution.documents) > _MAX_ATTACHMENTS:
            raise WorkItemConflict(f"a case carries at most {_MAX_ATTACHMENTS} attachments")
        for document in resolution.documents:
            message = caller.inbound(
                document.content,
                f"attachment:{document.media_type}",
                now,
                case_id=case.id,
                error=None,
            )
            messages.append(message)
            attachment = Attachment(
                kind=document.kind,
                media_type=document.media_type,
                title=document.title,
                size=len(document.content),
                sha256=hashlib.sha256(document.content).hexdigest(),
                message_id=message.id,
            )
            attachments.append(attachment.model_dump(mode="json"))
        merged["attachments"] = attachments
    try:
        validated = model.model_validate(merged).model_dump(mode="json")
    except ValidationError as exc:
        raise InvalidCorrection(exc) from None
    return validated, messages


def _summary(resolution: Resolution) -> dict[str, Any]:
    """What was added, by document code and field name: never the values."""
    return {
        "documents": [document.kind for document in resolution.documents],
        "fields": sorted(resolution.fields),
    }
