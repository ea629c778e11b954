"""Intake's group commit: a batch of accepted requests written in one transaction.

Idempotency keys are claimed first (insert, ignore conflicts, see which were ours), so a key
already stored makes its record a replay or a mismatch and writes nothing else.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.audit import append_audit
from gateway.store.bulk import insert_new_rows, insert_rows
from gateway.store.cases import add_cases, add_first_events, add_messages
from gateway.store.clock import utcnow
from gateway.store.engine import Store
from gateway.store.group_commit import GroupCommit
from gateway.store.outbox import enqueue_many
from gateway.store.records import (
    IdempotencyClaim,
    NewAuditEntry,
    NewCase,
    NewEvent,
    NewJob,
    NewMessage,
)
from gateway.store.schema import idempotency_keys
from gateway.store.work import NewCasePolicy, NewWorkItem, add_case_policies, add_work_items

IntakeKind = Literal["accepted", "replayed", "mismatch", "in_flight"]
# Answers for the two refusals, following the IETF Idempotency-Key draft.
IN_FLIGHT_STATUS = 409
MISMATCH_STATUS = 422

_Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ExtraRow:
    """A row of an edge's own table (HL7 order links...), written in the record's transaction."""

    table: sa.Table
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class IntakeRecord:
    """Everything one inbound request writes; a rejected input has only message and audit."""

    idempotency: IdempotencyClaim | None
    case: NewCase | None
    event: NewEvent | None
    job: NewJob | None
    message: NewMessage
    audit: NewAuditEntry
    extra: tuple[ExtraRow, ...] = ()
    policy: NewCasePolicy | None = None
    work_items: tuple[NewWorkItem, ...] = ()


@dataclass(frozen=True, slots=True)
class IntakeOutcome:
    """What became of a record, and the answer to give.

    accepted: written; status and body are the claim's (0 and empty without a claim: the
    caller's own answer stands). replayed: the key was already stored with this fingerprint;
    status and body are the stored answer. mismatch: stored with another fingerprint (422).
    in_flight: the same key is being written right now by this process (409).
    """

    kind: IntakeKind
    status: int
    body: bytes


class IntakeStoppedError(RuntimeError):
    """Intake is not running (not started yet, or stopping): the record was not taken."""


def _key(claim: IdempotencyClaim) -> _Key:
    return (claim.client_id, claim.key)


class GroupCommitter(GroupCommit[IntakeRecord, IntakeOutcome]):
    """The single intake writer; `rows` counts the records written."""

    stopped_error = IntakeStoppedError
    task_name = "casegate-intake-writer"

    def __init__(self, store: Store, max_batch: int = 512) -> None:
        super().__init__(max_batch)
        self._store = store
        self._in_flight: set[_Key] = set()

    async def submit(self, record: IntakeRecord) -> IntakeOutcome:
        """Queue the record and wait until it is committed (or refused)."""
        claim = record.idempotency
        if claim is not None:
            if _key(claim) in self._in_flight:
                return IntakeOutcome("in_flight", IN_FLIGHT_STATUS, b"")
            if self._accepting:
                self._in_flight.add(_key(claim))
        return await self._submit(record)

    def _settled(self, items: Sequence[IntakeRecord]) -> None:
        for record in items:
            if record.idempotency is not None:
                self._in_flight.discard(_key(record.idempotency))

    async def _write(self, batch: Sequence[IntakeRecord]) -> list[IntakeOutcome]:
        async with self._store.begin() as conn:
            outcomes = await self._claim_keys(conn, batch)
            winners = [
                record
                for record, outcome in zip(batch, outcomes, strict=True)
                if outcome.kind == "accepted"
            ]
            await add_cases(conn, [r.case for r in winners if r.case is not None])
            await add_first_events(conn, [r.event for r in winners if r.event is not None])
            await add_case_policies(conn, [r.policy for r in winners if r.policy is not None])
            await add_work_items(conn, [item for r in winners for item in r.work_items])
            await enqueue_many(conn, [r.job for r in winners if r.job is not None])
            await add_messages(conn, self._store.cipher, [r.message for r in winners])
            extra = [row for r in winners for row in r.extra]
            for table in dict.fromkeys(row.table for row in extra):
                await insert_rows(conn, table, [r.values for r in extra if r.table is table])
            await append_audit(conn, [r.audit for r in winners])
        return outcomes

    async def _claim_keys(
        self, conn: AsyncConnection, batch: Sequence[IntakeRecord]
    ) -> list[IntakeOutcome]:
        """Insert the batch's idempotency keys; a key already stored makes its record a loser."""
        claimed = [(record, record.idempotency) for record in batch if record.idempotency]
        won: set[_Key] = set()
        stored: dict[_Key, Any] = {}
        if claimed:
            now = utcnow()
            rows = [
                {
                    "client_id": claim.client_id,
                    "key": claim.key,
                    "fingerprint": claim.fingerprint,
                    "response_status": claim.response_status,
                    "response_body": claim.response_body,
                    "case_id": None if record.case is None else record.case.id,
                    "created_at": now,
                }
                for record, claim in claimed
            ]
            won = {
                (str(client_id), str(key))
                for client_id, key in await insert_new_rows(
                    conn, idempotency_keys, rows, ("client_id", "key")
                )
            }
            lost = [_key(claim) for _, claim in claimed if _key(claim) not in won]
            if lost:
                query = sa.select(idempotency_keys).where(
                    sa.tuple_(idempotency_keys.c.client_id, idempotency_keys.c.key).in_(lost)
                )
                stored = {(r.client_id, r.key): r for r in await conn.execute(query)}
        outcomes = []
        for record in batch:
            claim = record.idempotency
            if claim is None:
                outcomes.append(IntakeOutcome("accepted", 0, b""))
            elif _key(claim) in won:
                outcomes.append(
                    IntakeOutcome("accepted", claim.response_status, claim.response_body)
                )
            else:
                row = stored[_key(claim)]
                if row.fingerprint == claim.fingerprint:
                    outcomes.append(
                        IntakeOutcome("replayed", row.response_status, bytes(row.response_body))
                    )
                else:
                    outcomes.append(IntakeOutcome("mismatch", MISMATCH_STATUS, b""))
        return outcomes
