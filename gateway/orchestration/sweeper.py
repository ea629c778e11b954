"""The SLA sweeper: raises each escalation rung and the SLA breach of open cases when their time
comes, from the deadlines stored with the cases.

Nothing is held in memory between sweeps: a gateway stopped over a deadline raises it on its
first sweep after the restart. Each case is advanced under a compare-and-set on its clock row,
so two sweepers (two worker processes) never raise one rung twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from canonical.events import DomainEvent, note_event
from canonical.status import OPEN_STATUSES, CaseStatus
from gateway.events.expiry import expire_authorizations
from gateway.intake import event_record
from gateway.metrics import GatewayMetrics
from gateway.orchestration.decisions import next_check_at
from gateway.store import cases
from gateway.store.engine import Store
from gateway.store.ids import new_id
from gateway.store.work import (
    CasePolicyRow,
    NewWorkItem,
    WorkItemRow,
    add_work_items,
    advance_clock,
    due_case_policies,
    open_work_items,
    update_work_item,
)
from policies.decision import EscalationRung, PolicyDecision

_log = structlog.get_logger("casegate.sweeper")
ESCALATION = "escalation"
SLA_BREACH_QUEUE = "sla-breaches"
BATCH = 200


@dataclass
class SweepReport:
    escalations: int = 0
    breaches: int = 0
    closed: int = 0
    expired: int = 0


def breach_event(
    case_id: str, status: CaseStatus, due_at: datetime, clock: str, now: datetime
) -> DomainEvent:
    """`case.sla_breached`, naming the clock that ran out (the deadline's basis)."""
    facts = {"due_at": due_at.isoformat(), "clock": clock}
    return note_event(case_id, status, "sla_breached", now, facts)


class SlaSweeper:
    def __init__(
        self,
        store: Store,
        metrics: GatewayMetrics | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._clock = clock

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception as exc:  # a failed sweep is retried on the next tick
                _log.warning("sweep_failed", error_type=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    async def sweep(self, now: datetime | None = None) -> SweepReport:
        """Raise everything due at `now`, batch by batch, until nothing is due."""
        now = now or self._clock()
        report = SweepReport(expired=await expire_authorizations(self._store, now))
        while True:
            async with self._store.connect() as conn:
                due = await due_case_policies(conn, now, BATCH)
            if not due:
                return report
            for row, tenant, status in due:
                async with self._store.begin() as conn:
                    await self._advance(
                        conn, row, tenant, CaseStatus(status), now=now, report=report
                    )
            if len(due) < BATCH:
                return report

    async def _advance(
        self,
        conn: AsyncConnection,
        row: CasePolicyRow,
        tenant: str,
        status: CaseStatus,
        *,
        now: datetime,
        report: SweepReport,
    ) -> None:
        if status not in OPEN_STATUSES:  # decided or cancelled: its clock stops
            if await advance_clock(
                conn,
                row,
                rungs_raised=row.rungs_raised,
                sla_breached_at=row.sla_breached_at,
                next_check_at=None,
            ):
                report.closed += 1
            return
        decision = PolicyDecision.model_validate(row.decision)
        rungs = decision.escalation
        raised = row.rungs_raised
        while raised < len(rungs) and rungs[raised].at <= now:
            raised += 1
        breached_now = row.sla_breached_at is None and row.sla_due_at <= now
        breached_at = now if breached_now else row.sla_breached_at
        following = next_check_at(decision, raised, breached_at is not None)
        if not await advance_clock(
            conn, row, rungs_raised=raised, sla_breached_at=breached_at, next_check_at=following
        ):
            return  # another sweeper got there first
        events = []
        for level in range(row.rungs_raised, raised):
            rung = rungs[level]
            await self._escalate(
                conn, row, tenant, level=level + 1, rung=rung, decision=decision, now=now
            )
            facts = {
                "level": level + 1,
                "queue": rung.queue,
                "role": rung.role,
                "rule_id": rung.rule_id,
                "after": str(rung.after),
            }
            events.append(note_event(row.case_id, status, "escalated", now, facts))
            report.escalations += 1
        if breached_now:
            await self._breach(conn, row, tenant, decision, now)
            events.append(
                breach_event(row.case_id, status, row.sla_due_at, decision.sla.basis, now)
            )
            report.breaches += 1
            if self._metrics is not None:
                self._metrics.sla_breach(decision.case_type.value, decision.sla.urgency.value)
        await cases.append_events(conn, [event_record(event) for event in events])

    async def _escalate(
        self,
        conn: AsyncConnection,
        row: CasePolicyRow,
        tenant: str,
        *,
        level: int,
        rung: EscalationRung,
        decision: PolicyDecision,
        now: datetime,
    ) -> None:
        """The case's escalation item climbs to this rung's queue; made if it has none yet."""
        detail = {"rule_id": rung.rule_id, "reason": f"no payer decision after {rung.after}"}
        existing = await self._escalation_item(conn, row.case_id)
        if existing is None:
            item = _item(
                row,
                tenant,
                queue=rung.queue,
                role=rung.role,
                level=level,
                detail=detail,
                decision=decision,
                now=now,
            )
            await add_work_items(conn, [item])
            return
        await update_work_item(
            conn,
            existing,
            queue=rung.queue,
            role=rung.role,
            escalation_level=level,
            detail={**existing.detail, **detail},
        )

    async def _breach(
        self,
        conn: AsyncConnection,
        row: CasePolicyRow,
        tenant: str,
        decision: PolicyDecision,
        now: datetime,
    ) -> None:
        existing = await self._escalation_item(conn, row.case_id)
        if existing is None:
            detail = {
                "reason": "SLA deadline passed without a payer decision",
                "sla_breached": True,
            }
            role = decision.escalation[-1].role if decision.escalation else "um_supervisor"
            item = _item(
                row,
                tenant,
                queue=SLA_BREACH_QUEUE,
                role=role,
                level=0,
                detail=detail,
                decision=decision,
                now=now,
            )
            await add_work_items(conn, [item])
            return
        await update_work_item(conn, existing, detail={**existing.detail, "sla_breached": True})

    @staticmethod
    async def _escalation_item(conn: AsyncConnection, case_id: str) -> WorkItemRow | None:
        items = [i for i in await open_work_items(conn, case_id) if i.kind == ESCALATION]
        return items[0] if items else None


def _item(
    row: CasePolicyRow,
    tenant: str,
    *,
    queue: str,
    role: str,
    level: int,
    detail: dict[str, Any],
    decision: PolicyDecision,
    now: datetime,
) -> NewWorkItem:
    return NewWorkItem(
        id=new_id(),
        tenant=tenant,
        case_id=row.case_id,
        kind=ESCALATION,
        queue=queue,
        role=role,
        detail=detail,
        sla_due_at=decision.sla.due_at,
        created_at=now,
        escalation_level=level,
    )
