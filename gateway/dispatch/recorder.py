"""Group commit for send outcomes: many workers' results, one transaction.

Each outcome settles its job and moves its case only if the job's lease is still ours and the
case is at the version the send was made from (a savepoint per outcome keeps the two together);
its events, raw messages, follow-up job and audit entry are then written in bulk for the whole
batch. One commit per batch instead of one per case is what lets the workers keep up with
intake on SQLite, whose writers take turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gateway.fhir.ehr_subscriptions import enqueue_decision_notifications
from gateway.hl7.notify import enqueue_decision_notices
from gateway.store import audit, cases, outbox
from gateway.store.engine import Store
from gateway.store.group_commit import GroupCommit
from gateway.store.records import NewAuditEntry, NewEvent, NewJob, NewMessage

Recorded = Literal["recorded", "lease_lost", "conflict"]


@dataclass(frozen=True)
class SendOutcome:
    job_id: int
    case_id: str
    expected_version: int
    status: str
    decision: dict[str, Any] | None
    route: str
    decided: bool
    events: list[NewEvent]
    messages: list[NewMessage]
    follow_up: NewJob | None
    audit: NewAuditEntry


class OutcomeRecorder(GroupCommit[SendOutcome, Recorded]):
    task_name = "casegate-outcome-recorder"

    def __init__(self, store: Store, owner: str, max_batch: int = 256) -> None:
        super().__init__(max_batch)
        self._store = store
        self._owner = owner

    async def record(self, outcome: SendOutcome) -> Recorded:
        return await self._submit(outcome)

    async def _write(self, batch: Sequence[SendOutcome]) -> list[Recorded]:
        results: list[Recorded] = []
        kept: list[SendOutcome] = []
        async with self._store.begin() as conn:
            for outcome in batch:
                savepoint = await conn.begin_nested()
                if not await outbox.complete_job(conn, outcome.job_id, self._owner):
                    await savepoint.rollback()
                    results.append("lease_lost")
                    continue
                moved = await cases.update_case(
                    conn,
                    outcome.case_id,
                    outcome.expected_version,
                    status=outcome.status,
                    decision=outcome.decision,
                    route=outcome.route,
                    decided=outcome.decided,
                )
                if not moved:
                    await savepoint.rollback()
                    results.append("conflict")
                    continue
                await savepoint.commit()
                kept.append(outcome)
                results.append("recorded")
            await cases.append_events(conn, [e for o in kept for e in o.events])
            await cases.add_messages(
                conn, self._store.cipher, [m for o in kept for m in o.messages]
            )
            await outbox.enqueue_many(conn, [o.follow_up for o in kept if o.follow_up])
            await enqueue_decision_notifications(conn, [o.case_id for o in kept if o.decided])
            await enqueue_decision_notices(conn, [o.case_id for o in kept if o.decided])
            await audit.append_audit(conn, [o.audit for o in kept])
        return results
