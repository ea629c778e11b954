"""What the audit tests share: entries to append, and ways to read and tamper with the chain."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from gateway.audit.anchor import Anchor
from gateway.store.audit import append_audit, chain_head, entry_hash, list_audit
from gateway.store.engine import Store
from gateway.store.records import AuditRow, NewAuditEntry
from gateway.store.schema import GENESIS_HASH, audit_head, audit_log

DATA_KEY = bytes(range(32))


def entry(n: int, **overrides: Any) -> NewAuditEntry:
    fields: dict[str, Any] = {
        "action": "R",
        "outcome": "0",
        "client_id": "app-1",
        "token_jti": "jti-1",
        "source_address": "127.0.0.1",
        "case_id": f"case-{n}",
        "patient_hash": "ab" * 16,
        "payer_id": "ACMEHP",
        "purpose": "HOPERAT",
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "detail": {"event": "case.read", "n": n},
    }
    fields.update(overrides)
    return NewAuditEntry(**fields)


async def fill(store: Store, count: int) -> None:
    """Append `count` more entries, numbered on from the current head."""
    async with store.connect() as conn:
        start, _ = await chain_head(conn)
    async with store.begin() as conn:
        await append_audit(conn, [entry(start + i + 1) for i in range(count)])


async def rows(store: Store) -> list[AuditRow]:
    async with store.connect() as conn:
        return await list_audit(conn, limit=1_000_000)


async def anchor_now(store: Store) -> Anchor:
    async with store.connect() as conn:
        last_id, last_hash = await chain_head(conn)
    return Anchor(last_id=last_id, hash=last_hash, anchored_at=datetime.now(UTC))


async def tamper(store: Store, *statements: sa.Executable) -> None:
    async with store.begin() as conn:
        for statement in statements:
            await conn.execute(statement)


async def forge_from(store: Store, first_id: int, **changes: Any) -> None:
    """Change entry `first_id`, then recompute every hash after it and move the head along, as
    a forger with write access to the database would: the chain checks out on its own."""
    chain = await rows(store)
    prev_hash = GENESIS_HASH if first_id == 1 else chain[first_id - 2].hash
    async with store.begin() as conn:
        for row in chain[first_id - 1 :]:
            fields = asdict(row)
            if row.id == first_id:
                fields.update(changes)
            fields["prev_hash"] = prev_hash
            fields["hash"] = prev_hash = entry_hash(fields)
            values = {name: fields[name] for name in (*changes, "prev_hash", "hash")}
            await conn.execute(sa.update(audit_log).where(audit_log.c.id == row.id).values(values))
        await conn.execute(sa.update(audit_head).values(last_hash=prev_hash))


async def truncate(store: Store, keep: int) -> None:
    """Cut the chain after entry `keep` and move the head back to it: consistent on its own."""
    chain = await rows(store)
    await tamper(
        store,
        sa.delete(audit_log).where(audit_log.c.id > keep),
        sa.update(audit_head).values(last_id=keep, last_hash=chain[keep - 1].hash),
    )
