"""Where a send goes: the decision's route list, each channel mapped to connector instances by
settings, then the settings' own payer route as the last resort; and moving a send to the next
of those when its connector is down.

A connector counts as down for a send when an attempt failed transiently (refused, timed out,
5xx) after the quick tries inside it: the fallback channel is a valid way to the same payer, so
waiting out the backoff on a dead one only spends the SLA clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from canonical.cases import CaseType
from gateway.settings import Settings
from gateway.store.schema import outbox_jobs

ROUTE_KEY = "route"


def route_candidates(
    settings: Settings, targets: list[str], payer_id: str, case_type: CaseType
) -> list[str]:
    """Connector instances to try, in order, without repeats; empty when nothing is configured."""
    names: list[str] = []
    for target in targets:
        kind, _, name = target.partition(":")
        if kind == "channel":
            names.extend(settings.policies.channels.get(name, []))
        elif kind == "connector" and name in settings.connectors:
            names.append(name)
    fallback = settings.route_for(payer_id, case_type)
    if fallback is not None:
        names.append(fallback)
    return list(dict.fromkeys(names))


def next_candidate(candidates: list[str], current: str) -> str | None:
    if current not in candidates:
        return None
    index = candidates.index(current) + 1
    return candidates[index] if index < len(candidates) else None


async def move_job(
    conn: AsyncConnection,
    job_id: int,
    *,
    owner: str,
    connector: str,
    payload: dict[str, Any],
    reason: str,
    now: datetime,
) -> bool:
    """Hand a leased job to another connector, due at once; only its lease holder may."""
    result = await conn.execute(
        sa.update(outbox_jobs)
        .where(
            outbox_jobs.c.id == job_id,
            outbox_jobs.c.status == "leased",
            outbox_jobs.c.lease_owner == owner,
        )
        .values(
            status="pending",
            connector=connector,
            payload=payload,
            last_error=reason,
            available_at=now,
            lease_expires_at=None,
            updated_at=now,
        )
    )
    return result.rowcount == 1
