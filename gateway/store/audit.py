"""The tamper-evident audit log: a hash chain over every entry.

Each entry's hash covers all its fields and the previous entry's hash, so changing, removing or
reordering an entry breaks the chain from that point on. Ids are handed out under the lock on
the one-row audit_head table, which makes them consecutive (a gap is a removed entry) and lets
verification notice entries cut off the end. On PostgreSQL the head row is locked FOR UPDATE;
on SQLite the write transaction's BEGIN IMMEDIATE already serializes appends.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.bulk import insert_rows, sqlite_rows
from gateway.store.clock import utcnow
from gateway.store.records import AuditRow, JsonText, NewAuditEntry
from gateway.store.schema import GENESIS_HASH, audit_head, audit_log

_HEAD_ID = 1
_VERIFY_PAGE = 1000
_SQLITE_HEAD = "SELECT last_id, last_hash FROM audit_head WHERE id = ?"
_SQLITE_MOVE_HEAD = "UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = ?"


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    ok: bool
    # Entries verified intact before the first bad one (all of them when ok).
    entries: int
    first_bad_id: int | None
    reason: str


def _canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over sorted-key compact JSON of every field but `hash` (prev_hash included)."""
    material = {name: value for name, value in fields.items() if name != "hash"}
    recorded = material["recorded"]
    if isinstance(recorded, datetime):
        material["recorded"] = recorded.astimezone(UTC).isoformat(timespec="microseconds")
    return hashlib.sha256(_canonical_json(material).encode()).hexdigest()


def _normalized_detail(detail: dict[str, Any]) -> tuple[JsonText, dict[str, Any]]:
    """The detail as stored (its canonical JSON text, written to the column as it is) and as
    read back from the column, which is what the hash covers."""
    try:
        text = _canonical_json(detail)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit detail is not plain JSON: {type(exc).__name__}") from None
    normalized: dict[str, Any] = json.loads(text)
    return JsonText(text), normalized


async def append_audit(conn: AsyncConnection, entries: Sequence[NewAuditEntry]) -> None:
    """Append entries to the chain inside the caller's write transaction."""
    if not entries:
        return
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:  # BEGIN IMMEDIATE already holds the lock; one hop to the driver (see bulk.py)
        [(last_id, prev_hash)] = await sqlite_rows(conn, _SQLITE_HEAD, (_HEAD_ID,))
    else:
        head = (
            await conn.execute(
                sa.select(audit_head.c.last_id, audit_head.c.last_hash)
                .where(audit_head.c.id == _HEAD_ID)
                .with_for_update()
            )
        ).one()
        last_id, prev_hash = head.last_id, head.last_hash
    recorded = utcnow()
    rows = []
    for entry in entries:
        last_id += 1
        stored, detail = _normalized_detail(entry.detail)
        fields: dict[str, Any] = {
            "id": last_id,
            "recorded": recorded,
            "action": entry.action,
            "outcome": entry.outcome,
            "client_id": entry.client_id,
            "token_jti": entry.token_jti,
            "source_address": entry.source_address,
            "case_id": entry.case_id,
            "patient_hash": entry.patient_hash,
            "payer_id": entry.payer_id,
            "purpose": entry.purpose,
            "trace_id": entry.trace_id,
            "detail": detail,
            "prev_hash": prev_hash,
        }
        prev_hash = fields["hash"] = entry_hash(fields)
        rows.append({**fields, "detail": stored})
    await insert_rows(conn, audit_log, rows)
    if sqlite:
        await sqlite_rows(conn, _SQLITE_MOVE_HEAD, (last_id, prev_hash, _HEAD_ID))
        return
    await conn.execute(
        sa.update(audit_head)
        .where(audit_head.c.id == _HEAD_ID)
        .values(last_id=last_id, last_hash=prev_hash)
    )


async def list_audit(
    conn: AsyncConnection, *, after_id: int = 0, case_id: str | None = None, limit: int
) -> list[AuditRow]:
    """Entries in chain order, one page at a time (pass the last id seen as after_id)."""
    query = sa.select(audit_log).where(audit_log.c.id > after_id)
    if case_id is not None:
        query = query.where(audit_log.c.case_id == case_id)
    query = query.order_by(audit_log.c.id).limit(limit)
    return [AuditRow(**row._asdict()) for row in await conn.execute(query)]


async def chain_head(conn: AsyncConnection) -> tuple[int, str]:
    """The id and hash of the last entry ((0, GENESIS_HASH) for an empty chain)."""
    head = (
        await conn.execute(
            sa.select(audit_head.c.last_id, audit_head.c.last_hash).where(
                audit_head.c.id == _HEAD_ID
            )
        )
    ).one()
    return int(head.last_id), str(head.last_hash)


def _bad(verified: int, entry_id: int, reason: str) -> ChainVerdict:
    return ChainVerdict(ok=False, entries=verified, first_bad_id=entry_id, reason=reason)


async def verify_chain(conn: AsyncConnection) -> ChainVerdict:
    """Walk the whole chain and name the first entry that was changed, removed or reordered."""
    head_id, head_hash = await chain_head(conn)
    expected_id, prev_hash = 1, GENESIS_HASH
    while True:
        page = await list_audit(conn, after_id=expected_id - 1, limit=_VERIFY_PAGE)
        for row in page:
            verified = expected_id - 1
            if row.id != expected_id:
                return _bad(verified, expected_id, f"entry {expected_id} is missing")
            if row.prev_hash != prev_hash:
                return _bad(
                    verified,
                    row.id,
                    f"entry {row.id} does not follow entry {row.id - 1}: "
                    "entries were removed, inserted or reordered",
                )
            fields = {name: getattr(row, name) for name in AuditRow.__dataclass_fields__}
            if entry_hash(fields) != row.hash:
                return _bad(verified, row.id, f"entry {row.id} was changed after it was written")
            expected_id, prev_hash = expected_id + 1, row.hash
        if len(page) < _VERIFY_PAGE:
            break
    last_id = expected_id - 1
    if head_id > last_id:
        return _bad(last_id, last_id + 1, f"entries {last_id + 1}..{head_id} are missing")
    if head_id < last_id:
        return _bad(head_id, head_id + 1, f"entry {head_id + 1} was added outside the chain")
    if head_hash != prev_hash:
        if last_id == 0:
            return ChainVerdict(False, 0, None, "the chain head was altered (the log is empty)")
        return _bad(last_id - 1, last_id, f"entry {last_id} was changed after it was written")
    return ChainVerdict(ok=True, entries=last_id, first_bad_id=None, reason="chain intact")
