"""What the `casegate audit` commands do, against the configured store.

An export discloses who touched which case, so it is itself an audit entry. Anchoring refuses
to bless a broken trail: it checks the chain, and the anchor being replaced, before writing the
new one, so a periodic anchoring job stops at the first sign of tampering instead of hiding it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from gateway.audit.anchor import Anchor, read_anchor, write_anchor
from gateway.audit.entries import AUDIT_EXPORT, admin_action, operator_name
from gateway.audit.export import export_since
from gateway.audit.verify import verify_trail
from gateway.settings import Settings
from gateway.store.audit import ChainVerdict, append_audit, chain_head
from gateway.store.cipher import load_data_key
from gateway.store.engine import Store, open_store


class TrailBrokenError(RuntimeError):
    """The trail failed verification, so no anchor was written."""

    def __init__(self, verdict: ChainVerdict) -> None:
        super().__init__(verdict.reason)
        self.verdict = verdict


@asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[Store]:
    store = await open_store(
        settings.resolved_database_url, load_data_key(settings.home, settings.data_key)
    )
    try:
        yield store
    finally:
        await store.close()


async def verify_audit_trail(settings: Settings, anchor_path: Path | None) -> ChainVerdict:
    anchor = None if anchor_path is None else await asyncio.to_thread(read_anchor, anchor_path)
    async with _store(settings) as store, store.connect() as conn:
        return await verify_trail(conn, anchor)


async def anchor_audit_trail(settings: Settings, path: Path) -> Anchor:
    """Verify (against the previous anchor in `path`, if any), then write the current head."""
    exists = await asyncio.to_thread(path.exists)
    previous = await asyncio.to_thread(read_anchor, path) if exists else None
    async with _store(settings) as store, store.connect() as conn:
        verdict = await verify_trail(conn, previous)
        if not verdict.ok:
            raise TrailBrokenError(verdict)
        last_id, last_hash = await chain_head(conn)
    anchor = Anchor(last_id=last_id, hash=last_hash, anchored_at=datetime.now(UTC))
    await asyncio.to_thread(write_anchor, path, anchor)
    return anchor


async def export_audit_trail(
    settings: Settings, since: datetime, write_line: Callable[[str], object]
) -> int:
    async with _store(settings) as store:
        async with store.connect() as conn:
            count = await export_since(conn, since, write_line)
        async with store.begin() as conn:
            entry = admin_action(
                operator=operator_name(),
                action="R",
                event=AUDIT_EXPORT,
                detail={"since": since.isoformat(), "exported": count},
            )
            await append_audit(conn, [entry])
    return count
