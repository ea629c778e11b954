"""Pended cases are asked about again on their pack's cadence, counted from the first pend, and
no more often than the pack allows; a fixed interval in settings replaces the cadence."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from gateway.intake import FOLLOW_UP_JOB, SEND_JOB
from gateway.orchestration.follow_ups import follow_up_at, follow_up_facts
from gateway.runtime import open_runtime
from tests.gateway.orchestration.conftest import accept_case, example, runtime_settings


async def test_follow_ups_follow_the_pack_cadence(tmp_path: Path, database_url: str) -> None:
    runtime = await open_runtime(runtime_settings(tmp_path, database_url))
    try:
        case_id, received = await accept_case(runtime, example())
        pended = received + timedelta(hours=2)
        first = follow_up_facts(SEND_JOB, {}, pended)
        assert first == {"follow_up": 0, "pended_at": pended.isoformat()}
        due = await follow_up_at(runtime.store, case_id, first, pended, None)
        # Acme: after 1 calendar day, then every calendar day, at most 7 times.
        assert due is not None
        assert abs(due - pended - timedelta(days=1)) <= timedelta(hours=1)
        facts = first
        times: list[datetime | None] = [due]
        for _ in range(7):
            facts = follow_up_facts(FOLLOW_UP_JOB, facts, pended + timedelta(days=30))
            times.append(await follow_up_at(runtime.store, case_id, facts, pended, None))
        assert facts["pended_at"] == pended.isoformat(), "counted from the first pend"
        asked = [t for t in times if t is not None]
        assert len(asked) == 7 and times[-1] is None
        assert asked == sorted(asked)
        fixed = await follow_up_at(runtime.store, case_id, first, pended, 0.5)
        assert fixed == pended + timedelta(seconds=0.5)
        unknown = await follow_up_at(runtime.store, "NOPOLICY", first, pended, None)
        assert unknown == pended + timedelta(seconds=60)
    finally:
        await runtime.close()
