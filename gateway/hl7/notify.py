"""Decisions back to the EHR whose order opened the case.

When such a case is decided, the outcome recorder writes a notice job in the same commit as
the decision (so a crash in between cannot lose the notice); the job sends the decision through
the EHR's `hl7v2_mllp` connector instance (`ehr.notify`), in the form that instance is
configured for.
The request's idempotency key is the job's, so every resend carries the same MSH-10.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from canonical.cases import PriorAuthorizationRequest
from canonical.decisions import Decision
from connectors.contract import ConnectorRequest, ConnectorResponse
from connectors.hl7v2_mllp import NOTIFY, DecisionNotice
from gateway.dispatch.records import exchange_messages, worker_audit
from gateway.hl7.links import origin_of
from gateway.runtime import Runtime
from gateway.store import cases, outbox
from gateway.store.audit import append_audit
from gateway.store.clock import utcnow
from gateway.store.records import (
    CaseRow,
    JobRow,
    NewJob,
)
from gateway.store.schema import hl7_cases
from gateway.telemetry import current_carrier

NOTIFY_JOB = "hl7.notify"

Call = Callable[[str, ConnectorRequest], Awaitable[ConnectorResponse]]


class NoticeNotPossible(ValueError):
    """The case cannot be told to its EHR as it stands; the text is PHI-free."""


async def enqueue_decision_notices(conn: AsyncConnection, case_ids: Sequence[str]) -> None:
    """In the decision's own transaction: a notice job for each of these cases an EHR order
    opened, when that EHR takes decisions."""
    if not case_ids:
        return
    query = sa.select(hl7_cases.c.case_id, hl7_cases.c.notify).where(
        hl7_cases.c.case_id.in_(list(case_ids)), hl7_cases.c.notify.is_not(None)
    )
    now = utcnow()
    jobs = [
        NewJob(
            kind=NOTIFY_JOB,
            case_id=case_id,
            connector=notify,
            payload={},
            trace_context={},
            available_at=now,
        )
        for case_id, notify in await conn.execute(query)
    ]
    await outbox.enqueue_many(conn, jobs)


async def notify_ehr(runtime: Runtime, job: JobRow, row: CaseRow, call: Call, owner: str) -> None:
    """Send the case's decision to its EHR and record both messages with the job's end."""
    async with runtime.store.connect() as conn:
        origin = await origin_of(conn, row.id)
    if origin is None or job.connector is None or row.decision is None:
        raise NoticeNotPossible("the case has no EHR origin, connector or decision")
    notice = DecisionNotice(
        request=PriorAuthorizationRequest.model_validate(row.payload),
        decision=Decision.model_validate(row.decision),
        placer_order_numbers=origin.placer_order_numbers,
    )
    request = ConnectorRequest(
        operation=NOTIFY,
        idempotency_key=f"{row.id}:{NOTIFY}:{job.id}",
        case_id=row.id,
        case_type=row.type,
        payload=notice.model_dump(mode="json"),
        headers=current_carrier(),
    )
    response = await call(job.connector, request)
    now = datetime.now(UTC)
    messages = exchange_messages(row, response, response.wire_format, now)
    async with runtime.store.begin() as conn:
        if await outbox.complete_job(conn, job.id, owner):
            await cases.add_messages(conn, runtime.store.cipher, messages)
            detail = {"send": NOTIFY_JOB, "connector": job.connector}
            await append_audit(conn, [worker_audit(row, owner, detail)])
