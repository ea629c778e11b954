"""Group commit for audit entries that belong to no other transaction.

A PHI read, a refused token or a 404 for someone else's case writes nothing but its audit
entry; committing each alone would put one fsync on every read. A caller is released only once
its entry is durable, so a read is never answered unaudited.

On SQLite the writer takes the store's write lock: a caller must not wait for `record` while it
holds a write transaction of its own (it would wait for itself).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from gateway.store.audit import append_audit
from gateway.store.engine import Store
from gateway.store.group_commit import GroupCommit
from gateway.store.records import NewAuditEntry

_log = structlog.get_logger("casegate.audit")


class AuditStoppedError(RuntimeError):
    """The audit writer is not running (not started yet, or stopping): the entry was not taken."""


class AuditWriter(GroupCommit[NewAuditEntry, None]):
    """The single writer of stand-alone audit entries; `rows` counts the entries committed."""

    stopped_error = AuditStoppedError
    task_name = "casegate-audit-writer"

    def __init__(self, store: Store, max_batch: int = 512) -> None:
        super().__init__(max_batch)
        self._store = store

    async def record(self, entry: NewAuditEntry) -> None:
        """Queue the entry and wait until it is committed; raises if it could not be written."""
        await self._submit(entry)

    async def _write(self, entries: Sequence[NewAuditEntry]) -> list[None]:
        async with self._store.begin() as conn:
            await append_audit(conn, entries)
        return [None] * len(entries)


async def record_refusal(state: Mapping[str, Any], entry: NewAuditEntry) -> None:
    """Audit a refused request; the refusal stands whether or not its entry could be written."""
    writer = audit_writer_in(state)
    if writer is None:
        return
    try:
        await writer.record(entry)
    except Exception as exc:
        event = entry.detail.get("event")
        _log.error("audit_write_failed", audit_event=event, error=type(exc).__name__)


def audit_writer_in(state: Mapping[str, Any]) -> AuditWriter | None:
    """The running app's audit writer, or None for an app built without a runtime (unit tests
    of the auth layer), which then audits nothing rather than failing."""
    writer = getattr(state.get("runtime"), "audit", None)
    return writer if isinstance(writer, AuditWriter) else None
