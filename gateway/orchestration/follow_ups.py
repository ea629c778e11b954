"""When to ask the payer again about a pended case: on the pack's cadence, counted from when the
case was first pended, and no more often than the pack allows.

`workers.pended_follow_up_seconds`, when set, replaces the cadence with a fixed interval (tests
and the demo, which cannot wait a calendar day). A case decided without a pack is asked again
after DEFAULT_SECONDS.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from gateway.intake import FOLLOW_UP_JOB
from gateway.store.engine import Store
from gateway.store.work import get_case_policy
from policies.decision import PolicyDecision

DEFAULT_SECONDS = 60.0
INDEX_KEY = "follow_up"
PENDED_AT_KEY = "pended_at"


def follow_up_facts(job_kind: str, job_payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The follow-up counter and first pend time carried from job to job."""
    if job_kind == FOLLOW_UP_JOB and PENDED_AT_KEY in job_payload:
        return {
            INDEX_KEY: int(job_payload.get(INDEX_KEY, 0)) + 1,
            PENDED_AT_KEY: job_payload[PENDED_AT_KEY],
        }
    return {INDEX_KEY: 0, PENDED_AT_KEY: now.isoformat()}


async def follow_up_at(
    store: Store, case_id: str, facts: dict[str, Any], now: datetime, fixed: float | None
) -> datetime | None:
    """The due time of follow-up number facts[INDEX_KEY]; None once the cadence is used up."""
    if fixed is not None:
        return now + timedelta(seconds=fixed)
    async with store.connect() as conn:
        stored = await get_case_policy(conn, case_id)
    if stored is None:
        return now + timedelta(seconds=DEFAULT_SECONDS)
    decision = PolicyDecision.model_validate(stored.decision)
    times = decision.follow_up_times(datetime.fromisoformat(facts[PENDED_AT_KEY]))
    index = int(facts[INDEX_KEY])
    return times[index] if index < len(times) else None
