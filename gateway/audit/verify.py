"""Checking the audit trail: the hash chain inside the database, and its anchor outside it.

The chain alone finds an entry changed, removed or reordered in place, and entries cut off the
end while the head row was left alone. What it cannot find is a consistent forgery: the tail
cut off with the head row moved back, or a stretch rewritten and every later hash recomputed.
The anchor finds those as far as it reaches: the entry it names must exist with its hash.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.audit.anchor import Anchor
from gateway.store.audit import ChainVerdict, chain_head, list_audit, verify_chain


def _broken(first_bad_id: int, reason: str) -> ChainVerdict:
    return ChainVerdict(
        ok=False, entries=first_bad_id - 1, first_bad_id=first_bad_id, reason=reason
    )


async def check_anchor(conn: AsyncConnection, anchor: Anchor) -> ChainVerdict | None:
    """None when the chain still holds the anchored entry unchanged, else what is wrong."""
    if anchor.last_id == 0:
        return None
    when = anchor.anchored_at.isoformat(timespec="seconds")
    head_id, _ = await chain_head(conn)
    if head_id < anchor.last_id:
        return _broken(
            head_id + 1,
            f"entries {head_id + 1}..{anchor.last_id} are missing: the anchor of {when} "
            f"records {anchor.last_id} entries",
        )
    rows = await list_audit(conn, after_id=anchor.last_id - 1, limit=1)
    if not rows or rows[0].id != anchor.last_id:
        return _broken(anchor.last_id, f"entry {anchor.last_id}, anchored at {when}, is missing")
    if rows[0].hash != anchor.hash:
        return _broken(
            anchor.last_id,
            f"entry {anchor.last_id} does not match the anchor of {when}: the chain was "
            f"rewritten at or before entry {anchor.last_id} and its hashes recomputed",
        )
    return None


async def verify_trail(conn: AsyncConnection, anchor: Anchor | None = None) -> ChainVerdict:
    """The chain's verdict, unless the anchor shows an earlier (or an otherwise hidden) break."""
    verdict = await verify_chain(conn)
    if anchor is None:
        return verdict
    anchored = await check_anchor(conn, anchor)
    if anchored is None:
        return verdict
    if verdict.first_bad_id is not None and verdict.first_bad_id <= (anchored.first_bad_id or 0):
        return verdict
    return anchored
