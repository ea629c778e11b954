"""Group commit for audit entries that belong to no other transaction.

A PHI read, a refused token or a 404 for someone else's case writes nothing but its audit
entry. Committing each of those alone would put one fsync on every read; instead callers queue
their entry and wait while one writer task appends everything queued in a single transaction.
A caller is released only once its entry is durable, so a read is never answered unaudited.

On SQLite the writer takes the store's write lock: a caller must not wait for `record` while it
holds a write transaction of its own (it would wait for itself).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.store.audit import append_audit
from gateway.store.engine import Store
from gateway.store.records import NewAuditEntry


class AuditStoppedError(RuntimeError):
    """The audit writer is not running (not started yet, or stopping): the entry was not taken."""


@dataclass(frozen=True, slots=True)
class _Pending:
    entry: NewAuditEntry
    future: asyncio.Future[None]


class AuditWriter:
    """The single writer of stand-alone audit entries.

    `batches` counts write transactions and `entries` the entries they committed.
    """

    def __init__(self, store: Store, max_batch: int = 512) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._store = store
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._accepting = False
        self.batches = 0
        self.entries = 0

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the audit writer is already running")
        self._accepting = True
        self._task = asyncio.create_task(self._run(), name="casegate-audit-writer")

    async def stop(self) -> None:
        """Refuse new entries, write everything already queued, then end the writer."""
        if self._task is None:
            return
        self._accepting = False
        self._queue.put_nowait(None)
        task, self._task = self._task, None
        await task

    async def record(self, entry: NewAuditEntry) -> None:
        """Queue the entry and wait until it is committed; raises if it could not be written."""
        if not self._accepting:
            raise AuditStoppedError("the audit writer is not running; the entry was not stored")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(entry, future))
        await future

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
            for pending in batch:
                _settle(pending, AuditStoppedError("the audit writer stopped"))
            raise

    async def _commit(self, batch: Sequence[_Pending]) -> None:
        try:
            await self._write([p.entry for p in batch])
        except Exception:
            # One entry that cannot be written must not sink its neighbours: retry each alone,
            # so only the culprit's caller sees the error.
            for pending in batch:
                try:
                    await self._write([pending.entry])
                except Exception as exc:
                    _settle(pending, exc)
                else:
                    _settle(pending, None)
        else:
            for pending in batch:
                _settle(pending, None)

    async def _write(self, entries: list[NewAuditEntry]) -> None:
        self.batches += 1
        async with self._store.begin() as conn:
            await append_audit(conn, entries)
        self.entries += len(entries)


def _settle(pending: _Pending, error: BaseException | None) -> None:
    if pending.future.done():  # the caller gave up waiting; the entry stands regardless
        return
    if error is None:
        pending.future.set_result(None)
    else:
        pending.future.set_exception(error)


def audit_writer_in(state: Mapping[str, Any]) -> AuditWriter | None:
    """The running app's audit writer, or None for an app built without a runtime (unit tests
    of the auth layer), which then audits nothing rather than failing."""
    writer = getattr(state.get("runtime"), "audit", None)
    return writer if isinstance(writer, AuditWriter) else None
