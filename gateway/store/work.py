"""Policy decisions stored with their cases, and the work items people resolve.

A case's SLA deadline and escalation state are columns, not timers: `next_check_at` says when
the sweeper must look at the case again, so a restarted gateway picks up where it stopped.
Work items change under a version, like cases, so two people claiming one item cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.bulk import insert_rows
from gateway.store.clock import utcnow
from gateway.store.schema import case_policies, cases, work_items

WorkItemStatus = Literal["open", "claimed", "resolved"]
OPEN_ITEM_STATUSES = ("open", "claimed")


@dataclass(frozen=True, slots=True)
class NewCasePolicy:
    case_id: str
    pack_id: str
    pack_version: str
    fired_rules: list[str]
    decision: dict[str, Any]
    sla_due_at: datetime
    next_check_at: datetime | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class CasePolicyRow:
    case_id: str
    pack_id: str
    pack_version: str
    fired_rules: list[str]
    decision: dict[str, Any]
    sla_due_at: datetime
    sla_breached_at: datetime | None
    rungs_raised: int
    next_check_at: datetime | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class NewWorkItem:
    id: str
    tenant: str
    case_id: str
    kind: str
    queue: str
    role: str
    detail: dict[str, Any]
    sla_due_at: datetime
    created_at: datetime
    escalation_level: int = 0


@dataclass(frozen=True, slots=True)
class WorkItemRow:
    id: str
    tenant: str
    case_id: str
    kind: str
    queue: str
    role: str
    status: WorkItemStatus
    assignee: str | None
    escalation_level: int
    version: int
    detail: dict[str, Any]
    sla_due_at: datetime
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


def _policy_values(policy: NewCasePolicy) -> dict[str, Any]:
    return {
        "case_id": policy.case_id,
        "pack_id": policy.pack_id,
        "pack_version": policy.pack_version,
        "fired_rules": policy.fired_rules,
        "decision": policy.decision,
        "sla_due_at": policy.sla_due_at,
        "sla_breached_at": None,
        "rungs_raised": 0,
        "next_check_at": policy.next_check_at,
        "decided_at": policy.decided_at,
    }


async def add_case_policies(conn: AsyncConnection, policies: Sequence[NewCasePolicy]) -> None:
    if policies:
        await insert_rows(conn, case_policies, [_policy_values(p) for p in policies])


async def replace_case_policy(conn: AsyncConnection, policy: NewCasePolicy) -> None:
    """A case decided again (resumed with new data): the new decision restarts nothing that
    already happened, so rungs already raised and a breach already recorded stay."""
    values = _policy_values(policy)
    for kept in ("sla_breached_at", "rungs_raised", "case_id"):
        values.pop(kept)
    await conn.execute(
        sa.update(case_policies).where(case_policies.c.case_id == policy.case_id).values(values)
    )


async def get_case_policy(conn: AsyncConnection, case_id: str) -> CasePolicyRow | None:
    query = sa.select(case_policies).where(case_policies.c.case_id == case_id)
    row = (await conn.execute(query)).first()
    return None if row is None else CasePolicyRow(**row._asdict())


async def due_case_policies(
    conn: AsyncConnection, now: datetime, limit: int
) -> list[tuple[CasePolicyRow, str, str]]:
    """Cases whose next check is due, with each case's tenant and status."""
    query = (
        sa.select(case_policies, cases.c.tenant, cases.c.status)
        .join(cases, cases.c.id == case_policies.c.case_id)
        .where(case_policies.c.next_check_at <= now)
        .order_by(case_policies.c.next_check_at, case_policies.c.case_id)
        .limit(limit)
    )
    found = []
    for row in await conn.execute(query):
        fields = row._asdict()
        tenant, status = fields.pop("tenant"), fields.pop("status")
        found.append((CasePolicyRow(**fields), tenant, status))
    return found


async def advance_clock(
    conn: AsyncConnection,
    row: CasePolicyRow,
    *,
    rungs_raised: int,
    sla_breached_at: datetime | None,
    next_check_at: datetime | None,
) -> bool:
    """Record what the sweeper raised, only if nobody else raised it first (False then)."""
    result = await conn.execute(
        sa.update(case_policies)
        .where(
            case_policies.c.case_id == row.case_id,
            case_policies.c.rungs_raised == row.rungs_raised,
            case_policies.c.next_check_at == row.next_check_at,
        )
        .values(
            rungs_raised=rungs_raised, sla_breached_at=sla_breached_at, next_check_at=next_check_at
        )
    )
    return result.rowcount == 1


def _item_values(item: NewWorkItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "tenant": item.tenant,
        "case_id": item.case_id,
        "kind": item.kind,
        "queue": item.queue,
        "role": item.role,
        "status": "open",
        "assignee": None,
        "escalation_level": item.escalation_level,
        "version": 1,
        "detail": item.detail,
        "sla_due_at": item.sla_due_at,
        "created_at": item.created_at,
        "updated_at": item.created_at,
        "resolved_at": None,
    }


async def add_work_items(conn: AsyncConnection, items: Sequence[NewWorkItem]) -> None:
    if items:
        await insert_rows(conn, work_items, [_item_values(item) for item in items])


async def get_work_item(conn: AsyncConnection, item_id: str, tenant: str) -> WorkItemRow | None:
    query = sa.select(work_items).where(work_items.c.id == item_id, work_items.c.tenant == tenant)
    row = (await conn.execute(query)).first()
    return None if row is None else WorkItemRow(**row._asdict())


async def open_work_items(conn: AsyncConnection, case_id: str) -> list[WorkItemRow]:
    query = (
        sa.select(work_items)
        .where(work_items.c.case_id == case_id, work_items.c.status.in_(OPEN_ITEM_STATUSES))
        .order_by(work_items.c.id)
    )
    return [WorkItemRow(**row._asdict()) for row in await conn.execute(query)]


async def resolved_kinds(conn: AsyncConnection, case_id: str) -> set[str]:
    query = sa.select(work_items.c.kind).where(
        work_items.c.case_id == case_id, work_items.c.status == "resolved"
    )
    return set((await conn.execute(query)).scalars())


async def list_work_items(
    conn: AsyncConnection,
    tenant: str,
    *,
    queue: str | None,
    assignee: str | None,
    sla_breach: bool | None,
    include_resolved: bool,
    now: datetime,
    after_id: str | None,
    limit: int,
) -> list[WorkItemRow]:
    """One page in creation (id) order; pass the last id to get the next."""
    query = sa.select(work_items).where(work_items.c.tenant == tenant)
    if not include_resolved:
        query = query.where(work_items.c.status.in_(OPEN_ITEM_STATUSES))
    if queue is not None:
        query = query.where(work_items.c.queue == queue)
    if assignee is not None:
        query = query.where(work_items.c.assignee == assignee)
    if sla_breach is True:
        query = query.where(work_items.c.sla_due_at <= now)
    elif sla_breach is False:
        query = query.where(work_items.c.sla_due_at > now)
    if after_id is not None:
        query = query.where(work_items.c.id > after_id)
    query = query.order_by(work_items.c.id).limit(limit)
    return [WorkItemRow(**row._asdict()) for row in await conn.execute(query)]


async def update_work_item(
    conn: AsyncConnection, item: WorkItemRow, **values: Any
) -> WorkItemRow | None:
    """Apply a change if the item is still at the version read; None if someone else won."""
    result = await conn.execute(
        sa.update(work_items)
        .where(work_items.c.id == item.id, work_items.c.version == item.version)
        .values(version=work_items.c.version + 1, updated_at=utcnow(), **values)
        .returning(*work_items.c)
    )
    row = result.first()
    return None if row is None else WorkItemRow(**row._asdict())


@dataclass(frozen=True, slots=True)
class QueueSample:
    queue: str
    open: int
    oldest_age_seconds: float
    sla_breached: int


async def work_queue_stats(conn: AsyncConnection, now: datetime) -> list[QueueSample]:
    """Open items per queue: how many, the age of the oldest, how many are past their SLA."""
    items = work_items.c
    breached = sa.func.sum(sa.case((items.sla_due_at <= now, 1), else_=0))
    query = (
        sa.select(items.queue, sa.func.count(), sa.func.min(items.created_at), breached)
        .where(items.status.in_(OPEN_ITEM_STATUSES))
        .group_by(items.queue)
    )
    samples = []
    for queue, count, oldest, late in await conn.execute(query):
        age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
        samples.append(QueueSample(queue, int(count), age, int(late or 0)))
    return samples
