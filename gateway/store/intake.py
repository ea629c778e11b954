"""Group commit for intake: many requests, one transaction, one fsync.

Durability costs one disk flush per commit, so committing each request separately caps the
whole gateway at the disk's flush rate. Instead, callers queue their records and wait; one
writer task takes everything queued, writes it in a single transaction with multi-row inserts,
commits, and only then answers every caller. Nothing is answered before its commit.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.audit import append_audit
from gateway.store.cases import add_cases, add_messages, append_events
from gateway.store.clock import utcnow
from gateway.store.engine import Store
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

IntakeKind = Literal["accepted", "replayed", "mismatch", "in_flight"]
# Answers for the two refusals, following the IETF Idempotency-Key draft.
IN_FLIGHT_STATUS = 409
MISMATCH_STATUS = 422

_Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class IntakeRecord:
    """Everything one inbound request writes; a rejected input has only message and audit."""

    idempotency: IdempotencyClaim | None
    case: NewCase | None
    event: NewEvent | None
    job: NewJob | None
    message: NewMessage
    audit: NewAuditEntry


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


@dataclass(frozen=True, slots=True)
class _Pending:
    record: IntakeRecord
    future: asyncio.Future[IntakeOutcome]
    key: _Key | None


def _key(claim: IdempotencyClaim) -> _Key:
    return (claim.client_id, claim.key)


class GroupCommitter:
    """The single intake writer. `batches` counts write transactions, `rows` records written."""

    def __init__(self, store: Store, max_batch: int = 512) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._store = store
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._in_flight: set[_Key] = set()
        self._task: asyncio.Task[None] | None = None
        self._accepting = False
        self.batches = 0
        self.rows = 0

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the group committer is already running")
        self._accepting = True
        self._task = asyncio.create_task(self._run(), name="casegate-intake-writer")

    async def stop(self) -> None:
        """Refuse new records, write everything already queued, then end the writer."""
        if self._task is None:
            return
        self._accepting = False
        self._queue.put_nowait(None)
        task, self._task = self._task, None
        await task

    async def submit(self, record: IntakeRecord) -> IntakeOutcome:
        """Queue the record and wait until it is committed (or refused)."""
        if not self._accepting:
            raise IntakeStoppedError("intake is not running; the record was not stored")
        key = None if record.idempotency is None else _key(record.idempotency)
        if key is not None:
            if key in self._in_flight:
                return IntakeOutcome("in_flight", IN_FLIGHT_STATUS, b"")
            self._in_flight.add(key)
        future: asyncio.Future[IntakeOutcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(record, future, key))
        return await future

    async def _run(self) -> None:
        batch: list[_Pending] = []
        try:
            while True:
                item = await self._queue.get()
                while item is not None:
                    batch.append(item)
                    if len(batch) >= self._max_batch or self._queue.empty():
                        break
                    item = self._queue.get_nowait()
                if batch:
                    await self._commit(batch)
                    batch = []
                if item is None:
                    return
        except BaseException:
            # The writer is going away (cancelled, or a bug): no caller may wait forever.
            while not self._queue.empty():
                queued = self._queue.get_nowait()
                if queued is not None:
                    batch.append(queued)
            self._settle_all(batch, IntakeStoppedError("intake writer stopped"))
            raise

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            try:
                outcomes = await self._write(batch)
            except Exception:
                # One bad record must not sink its neighbours: retry each on its own, so only
                # the culprit's caller sees the error.
                for pending in batch:
                    try:
                        (outcome,) = await self._write([pending])
                    except Exception as exc:
                        self._settle(pending, exc)
                    else:
                        self._settle(pending, outcome)
            else:
                for pending, outcome in zip(batch, outcomes, strict=True):
                    self._settle(pending, outcome)
        finally:
            for pending in batch:
                if pending.key is not None:
                    self._in_flight.discard(pending.key)

    def _settle(self, pending: _Pending, result: IntakeOutcome | BaseException) -> None:
        if pending.future.done():  # the caller gave up waiting; the record stands regardless
            return
        if isinstance(result, BaseException):
            pending.future.set_exception(result)
        else:
            pending.future.set_result(result)

    def _settle_all(self, batch: Sequence[_Pending], error: BaseException) -> None:
        for pending in batch:
            self._settle(pending, error)
            if pending.key is not None:
                self._in_flight.discard(pending.key)

    async def _write(self, batch: Sequence[_Pending]) -> list[IntakeOutcome]:
        self.batches += 1
        async with self._store.begin() as conn:
            outcomes = await self._claim_keys(conn, batch)
            winners = [
                p.record
                for p, outcome in zip(batch, outcomes, strict=True)
                if outcome.kind == "accepted"
            ]
            await add_cases(conn, [r.case for r in winners if r.case is not None])
            await append_events(conn, [r.event for r in winners if r.event is not None])
            await enqueue_many(conn, [r.job for r in winners if r.job is not None])
            await add_messages(conn, self._store.cipher, [r.message for r in winners])
            await append_audit(conn, [r.audit for r in winners])
        self.rows += len(batch)
        return outcomes

    async def _claim_keys(
        self, conn: AsyncConnection, batch: Sequence[_Pending]
    ) -> list[IntakeOutcome]:
        """Insert the batch's idempotency keys; a key already stored makes its record a loser."""
        claimed = [(p.record, p.record.idempotency) for p in batch if p.record.idempotency]
        won: set[_Key] = set()
        stored: dict[_Key, Any] = {}
        if claimed:
            now = utcnow()
            insert = postgresql.insert if self._store.dialect == "postgresql" else sqlite.insert
            statement = (
                insert(idempotency_keys)
                .on_conflict_do_nothing(index_elements=["client_id", "key"])
                .returning(idempotency_keys.c.client_id, idempotency_keys.c.key)
            )
            params = [
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
            won = {(row.client_id, row.key) for row in await conn.execute(statement, params)}
            lost = [_key(claim) for _, claim in claimed if _key(claim) not in won]
            if lost:
                query = sa.select(idempotency_keys).where(
                    sa.tuple_(idempotency_keys.c.client_id, idempotency_keys.c.key).in_(lost)
                )
                stored = {(r.client_id, r.key): r for r in await conn.execute(query)}
        outcomes = []
        for pending in batch:
            claim = pending.record.idempotency
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
