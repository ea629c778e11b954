"""Authorization expiry: the day after an approved authorization's period ends, its case records
`case.authorization_expired`, which subscribers receive as `authorization.expired`.

No payer says an authorization has lapsed, so nothing else would raise it. The period's end is
read from the stored decision; a case is told at most once, because the event is written under
a compare-and-set on the case's version and a case that has the event is never picked again.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from canonical.cases import CaseType
from canonical.events import DomainEvent, note_event
from canonical.status import CaseStatus
from gateway.intake import event_record
from gateway.store import cases as case_store
from gateway.store.engine import Store
from gateway.store.schema import case_events, cases

EXPIRED_KIND = "authorization_expired"
EXPIRED_EVENT = f"case.{EXPIRED_KIND}"
BATCH = 200
_APPROVED = (CaseStatus.approved.value, CaseStatus.partially_approved.value)


def _period_end() -> sa.ColumnElement[str]:
    end: sa.ColumnElement[str] = cases.c.decision[("authorized_period", "end")].as_string()
    return end


def _lapsed(today: date) -> sa.Select[str, str, int, str, str | None]:
    told = sa.exists().where(
        case_events.c.case_id == cases.c.id, case_events.c.type == EXPIRED_EVENT
    )
    return (
        sa.select(
            cases.c.id,
            cases.c.status,
            cases.c.version,
            _period_end(),
            cases.c.decision["auth_number"].as_string(),
        )
        .where(
            cases.c.type == CaseType.prior_authorization.value,
            cases.c.status.in_(_APPROVED),
            # ISO dates compare as text in date order.
            _period_end() < today.isoformat(),
            ~told,
        )
        .order_by(cases.c.id)
        .limit(BATCH)
    )


def expired_event(
    case_id: str, status: CaseStatus, auth_number: str | None, ended_on: str, now: datetime
) -> DomainEvent:
    """`case.authorization_expired`; `ended_on` is the period's last covered day (ISO date)."""
    facts = {"auth_number": auth_number, "expired_on": ended_on}
    return note_event(case_id, status, EXPIRED_KIND, now, facts)


async def expire_authorizations(store: Store, now: datetime) -> int:
    """Record the expiry of every approved authorization whose period ended before `now`'s
    date; returns how many were recorded."""
    recorded = 0
    while True:
        async with store.connect() as conn:
            lapsed = (await conn.execute(_lapsed(now.date()))).all()
        for case_id, status, version, end, auth_number in lapsed:
            async with store.begin() as conn:
                if not await case_store.update_case(conn, case_id, version, status=status):
                    continue  # changed meanwhile (another sweeper, a cancellation): next pass
                event = expired_event(case_id, CaseStatus(status), auth_number, end, now)
                await case_store.append_event(conn, event_record(event))
                recorded += 1
        if len(lapsed) < BATCH:
            return recorded
