"""The audit hash chain: appends link up, and tampering is found and located."""

import asyncio
from dataclasses import asdict, replace
from itertools import pairwise

import pytest
import sqlalchemy as sa

from gateway.store.audit import append_audit, chain_head, entry_hash, list_audit, verify_chain
from gateway.store.engine import Store
from gateway.store.schema import GENESIS_HASH, audit_head, audit_log


async def _append(store: Store, make_audit, count: int) -> None:
    async with store.begin() as conn:
        await append_audit(conn, [make_audit(f"case-{i}") for i in range(count)])


async def _verdict(store: Store):
    async with store.connect() as conn:
        return await verify_chain(conn)


async def _tamper(store: Store, *statements: sa.Executable) -> None:
    async with store.begin() as conn:
        for statement in statements:
            await conn.execute(statement)


async def test_empty_chain_is_intact(store: Store) -> None:
    verdict = await _verdict(store)
    assert (verdict.ok, verdict.entries, verdict.first_bad_id) == (True, 0, None)
    async with store.connect() as conn:
        assert await chain_head(conn) == (0, GENESIS_HASH)


async def test_appends_link_into_one_chain(store: Store, make_audit) -> None:
    await _append(store, make_audit, 3)
    await _append(store, make_audit, 2)
    async with store.connect() as conn:
        rows = await list_audit(conn, limit=10)
        head = await chain_head(conn)
        of_case = await list_audit(conn, case_id="case-1", limit=10)
    assert [r.id for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(rows))
    assert head == (5, rows[-1].hash)
    assert [r.id for r in of_case] == [2, 5]
    assert rows[0].detail == {"route": "payer_rest", "n": 1}
    assert rows[0].recorded.tzinfo is not None
    verdict = await _verdict(store)
    assert (verdict.ok, verdict.entries) == (True, 5)


async def test_concurrent_appenders_keep_one_unbroken_chain(store: Store, make_audit) -> None:
    await asyncio.gather(*(_append(store, make_audit, 3) for _ in range(6)))
    verdict = await _verdict(store)
    assert (verdict.ok, verdict.entries) == (True, 18)


async def test_a_changed_entry_is_named(store: Store, make_audit) -> None:
    await _append(store, make_audit, 5)
    await _tamper(store, sa.update(audit_log).where(audit_log.c.id == 3).values(outcome="failure"))
    verdict = await _verdict(store)
    assert (verdict.ok, verdict.first_bad_id, verdict.entries) == (False, 3, 2)
    assert "changed" in verdict.reason


async def test_a_changed_detail_is_named(store: Store, make_audit) -> None:
    await _append(store, make_audit, 4)
    await _tamper(store, sa.update(audit_log).where(audit_log.c.id == 4).values(detail={"n": 2}))
    verdict = await _verdict(store)
    assert (verdict.ok, verdict.first_bad_id) == (False, 4)


async def _rehash(store: Store, entry_id: int, outcome: str) -> None:
    """Change an entry and give it a matching hash, as a forger with database access would."""
    async with store.begin() as conn:
        [row] = [r for r in await list_audit(conn, limit=100) if r.id == entry_id]
        forged = {**asdict(row), "outcome": outcome}
        await conn.execute(
            sa.update(audit_log)
            .where(audit_log.c.id == entry_id)
            .values(outcome=outcome, hash=entry_hash(forged))
        )


async def test_a_rehashed_change_is_caught_at_the_next_entry(store: Store, make_audit) -> None:
    await _append(store, make_audit, 5)
    await _rehash(store, 2, "failure")
    verdict = await _verdict(store)
    assert (verdict.ok, verdict.first_bad_id) == (False, 3)
    assert "does not follow entry 2" in verdict.reason


async def test_a_rehashed_last_entry_is_caught_by_the_head(store: Store, make_audit) -> None:
    await _append(store, make_audit, 5)
    await _rehash(store, 5, "failure")
    verdict = await _verdict(store)
    assert (verdict.ok, verdict.first_bad_id, verdict.entries) == (False, 5, 4)
    assert "changed" in verdict.reason


async def test_a_removed_entry_is_named(store: Store, make_audit) -> None:
    await _append(store, make_audit, 5)
    await _tamper(store, sa.delete(audit_log).where(audit_log.c.id == 3))
    verdict = await _verdict(store)
    assert (verdict.ok, verdict.first_bad_id) == (False, 3)
    assert "missing" in verdict.reason


async def test_a_removed_and_renumbered_entry_is_named(store: Store, make_audit) -> None:
    await _append(store, make_audit, 4)
    await _tamper(
        store,
        sa.delete(audit_log).where(audit_log.c.id == 2),
        sa.update(audit_log).where(audit_log.c.id == 3).values(id=2),
        sa.update(audit_log).where(audit_log.c.id == 4).values(id=3),
        sa.update(audit_head).values(last_id=3),
    )
    verdict = await _verdict(store)
    assert (verdict.ok, verdict.first_bad_id) == (False, 2)
    assert "does not follow" in verdict.reason


async def test_entries_cut_off_the_end_are_found(store: Store, make_audit) -> None:
    await _append(store, make_audit, 5)
    await _tamper(store, sa.delete(audit_log).where(audit_log.c.id >= 4))
    verdict = await _verdict(store)
    assert (verdict.ok, verdict.first_bad_id, verdict.entries) == (False, 4, 3)
    assert "4..5 are missing" in verdict.reason


async def test_reordered_entries_are_named(store: Store, make_audit) -> None:
    await _append(store, make_audit, 5)
    await _tamper(
        store,
        sa.update(audit_log).where(audit_log.c.id == 3).values(id=-3),
        sa.update(audit_log).where(audit_log.c.id == 4).values(id=3),
        sa.update(audit_log).where(audit_log.c.id == -3).values(id=4),
    )
    verdict = await _verdict(store)
    assert (verdict.ok, verdict.first_bad_id) == (False, 3)
    assert "reordered" in verdict.reason


async def test_detail_that_is_not_plain_json_is_refused(store: Store, make_audit) -> None:
    entry = replace(make_audit("case-1"), detail={"ratio": float("nan")})
    with pytest.raises(ValueError, match="audit detail is not plain JSON"):
        async with store.begin() as conn:
            await append_audit(conn, [entry])
    assert (await _verdict(store)).entries == 0
