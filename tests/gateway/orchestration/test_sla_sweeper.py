"""SLA deadlines and escalation rungs live in the store: a gateway stopped across a deadline
raises it on its first sweep after the restart, each rung once, and a decided case stops its
clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from canonical.events import transition_event
from canonical.status import CaseStatus
from gateway.intake import event_record
from gateway.metrics import gateway_metrics
from gateway.orchestration.sweeper import SlaSweeper, SweepReport
from gateway.runtime import Runtime, open_runtime
from gateway.store import cases
from gateway.store.schema import case_events, work_items
from gateway.store.work import get_case_policy, list_work_items
from tests.gateway.orchestration.conftest import accept_case, example, runtime_settings


async def _events(runtime: Runtime, case_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with runtime.store.connect() as conn:
        rows = await conn.execute(
            sa.select(case_events.c.type, case_events.c.data)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.seq)
        )
        return [(kind, data) for kind, data in rows]


async def _items(runtime: Runtime, case_id: str) -> list[tuple[str, str, int, str]]:
    async with runtime.store.connect() as conn:
        rows = await conn.execute(
            sa.select(
                work_items.c.kind,
                work_items.c.queue,
                work_items.c.escalation_level,
                work_items.c.status,
            )
            .where(work_items.c.case_id == case_id)
            .order_by(work_items.c.id)
        )
        return [(kind, queue, level, status) for kind, queue, level, status in rows]


async def test_deadlines_survive_a_restart_and_each_rung_is_raised_once(
    tmp_path: Path, database_url: str
) -> None:
    settings = runtime_settings(tmp_path, database_url)
    runtime = await open_runtime(settings)
    try:
        case_id, received = await accept_case(runtime, example())
        decided_id, _ = await accept_case(runtime, example())
        async with runtime.store.begin() as conn:
            row = await cases.get_case(conn, decided_id, None)
            assert row is not None
            await cases.update_case(conn, decided_id, row.version, status="submitted")
            event = transition_event(decided_id, CaseStatus.draft, CaseStatus.submitted, received)
            await cases.append_event(conn, event_record(event))
            row = await cases.get_case(conn, decided_id, None)
            assert row is not None
            await cases.update_case(conn, decided_id, row.version, status="approved", decided=True)
        assert await SlaSweeper(runtime.store).sweep(received + timedelta(hours=1)) == _report()
    finally:
        await runtime.close()

    # Stopped for four days: Acme's first rung (3 calendar days) passed while nobody ran.
    runtime = await open_runtime(settings)
    try:
        sweeper = SlaSweeper(runtime.store, gateway_metrics())
        later = received + timedelta(days=4)
        assert await sweeper.sweep(later) == _report(escalations=1, closed=1)
        assert await sweeper.sweep(later) == _report()
        assert ("escalation", "acme-um", 1, "open") in await _items(runtime, case_id)
        [(_, escalated)] = [e for e in await _events(runtime, case_id) if e[0] == "case.escalated"]
        assert (escalated["level"], escalated["queue"], escalated["rule_id"]) == (
            1,
            "acme-um",
            "ACME-CLOCK-STANDARD",
        )
        assert not [e for e in await _events(runtime, decided_id) if e[0] == "case.escalated"]
    finally:
        await runtime.close()

    runtime = await open_runtime(settings)
    try:
        sweeper = SlaSweeper(runtime.store)
        past_due = received + timedelta(days=8)
        assert await sweeper.sweep(past_due) == _report(escalations=1, breaches=1)
        assert await sweeper.sweep(past_due + timedelta(days=30)) == _report()
        assert await _items(runtime, case_id) == [("escalation", "acme-um-leads", 2, "open")]
        kinds = [kind for kind, _ in await _events(runtime, case_id)]
        assert kinds == ["case.created", "case.escalated", "case.escalated", "case.sla_breached"]
        async with runtime.store.connect() as conn:
            stored = await get_case_policy(conn, case_id)
            overdue = {
                breach: await list_work_items(
                    conn,
                    "default",
                    queue=None,
                    assignee=None,
                    sla_breach=breach,
                    include_resolved=False,
                    now=past_due,
                    after_id=None,
                    limit=10,
                )
                for breach in (True, False)
            }
        assert [(i.case_id, i.queue) for i in overdue[True]] == [(case_id, "acme-um-leads")]
        assert overdue[False] == []
        assert stored is not None
        assert (stored.rungs_raised, stored.sla_breached_at, stored.next_check_at) == (
            2,
            past_due,
            None,
        )
        # 7 calendar days in Chicago: 7 x 24 hours, give or take a daylight-saving change.
        assert abs(stored.sla_due_at - received - timedelta(days=7)) <= timedelta(hours=1)
    finally:
        await runtime.close()


def _report(escalations: int = 0, breaches: int = 0, closed: int = 0) -> SweepReport:
    return SweepReport(escalations=escalations, breaches=breaches, closed=closed)
