"""Audit entries since a moment, as FHIR AuditEvent JSON lines, in chain order.

Entries are read a page at a time and written as they come, so an export of millions of entries
holds one page in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.audit.fhir import audit_event
from gateway.store.records import AuditRow
from gateway.store.schema import audit_log

_PAGE = 500


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date or date and time; without a UTC offset it is taken as UTC."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            "expected an ISO 8601 date or date and time, as in 2025-03-01 or "
            "2025-03-01T12:00:00+00:00"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


async def entries_since(
    conn: AsyncConnection, since: datetime, *, page: int = _PAGE
) -> AsyncIterator[AuditRow]:
    """Entries recorded at or after `since` (timezone-aware), in chain order."""
    after_id = 0
    while True:
        query = (
            sa.select(audit_log)
            .where(audit_log.c.id > after_id, audit_log.c.recorded >= since)
            .order_by(audit_log.c.id)
            .limit(page)
        )
        rows = [AuditRow(**row._asdict()) for row in await conn.execute(query)]
        for row in rows:
            yield row
        if len(rows) < page:
            return
        after_id = rows[-1].id


async def export_since(
    conn: AsyncConnection, since: datetime, write_line: Callable[[str], object]
) -> int:
    """Write one AuditEvent per line (no trailing newline is passed); returns how many."""
    count = 0
    async for row in entries_since(conn, since):
        write_line(audit_event(row).model_dump_json())
        count += 1
    return count
