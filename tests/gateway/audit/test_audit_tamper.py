"""Tampering with the trail, each way a person with database access could, is found and located.

Changes in place are found by the chain alone; a consistent forgery (the tail cut with the head
moved back, or entries rewritten and re-hashed) only with the anchor kept outside the database.
"""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from gateway.audit.anchor import Anchor
from gateway.audit.verify import verify_trail
from gateway.store.audit import ChainVerdict
from gateway.store.engine import Store
from gateway.store.schema import audit_log
from tests.gateway.audit.support import anchor_now, fill, forge_from, tamper, truncate


async def _verdict(store: Store, anchor: Anchor | None = None) -> ChainVerdict:
    async with store.connect() as conn:
        return await verify_trail(conn, anchor)


async def test_an_intact_trail_passes_with_and_without_its_anchor(store: Store) -> None:
    await fill(store, 4)
    anchor = await anchor_now(store)
    await fill(store, 3)  # entries written after the anchor are fine
    for verdict in (await _verdict(store), await _verdict(store, anchor)):
        assert (verdict.ok, verdict.entries, verdict.first_bad_id) == (True, 7, None)


async def test_an_anchor_of_the_empty_chain_passes(store: Store) -> None:
    anchor = await anchor_now(store)
    await fill(store, 2)
    assert (await _verdict(store, anchor)).ok


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("outcome", "4"),
        ("client_id", "someone-else"),
        ("patient_hash", "cd" * 16),
        ("detail", {"event": "case.read", "n": 99}),
        ("recorded", datetime(2020, 1, 1, tzinfo=UTC)),
    ],
)
async def test_an_edited_field_names_its_entry(store: Store, column: str, value: object) -> None:
    await fill(store, 6)
    anchor = await anchor_now(store)
    await tamper(store, sa.update(audit_log).where(audit_log.c.id == 3).values({column: value}))
    for verdict in (await _verdict(store), await _verdict(store, anchor)):
        assert (verdict.ok, verdict.first_bad_id, verdict.entries) == (False, 3, 2)
        assert "entry 3 was changed" in verdict.reason


async def test_a_deleted_entry_is_named(store: Store) -> None:
    await fill(store, 6)
    anchor = await anchor_now(store)
    await tamper(store, sa.delete(audit_log).where(audit_log.c.id == 4))
    for verdict in (await _verdict(store), await _verdict(store, anchor)):
        assert (verdict.ok, verdict.first_bad_id) == (False, 4)
        assert "entry 4 is missing" in verdict.reason


async def test_two_entries_swapped_by_id_are_named_at_the_first(store: Store) -> None:
    await fill(store, 6)
    anchor = await anchor_now(store)
    await tamper(
        store,
        sa.update(audit_log).where(audit_log.c.id == 2).values(id=-2),
        sa.update(audit_log).where(audit_log.c.id == 5).values(id=2),
        sa.update(audit_log).where(audit_log.c.id == -2).values(id=5),
    )
    for verdict in (await _verdict(store), await _verdict(store, anchor)):
        assert (verdict.ok, verdict.first_bad_id) == (False, 2)
        assert "reordered" in verdict.reason


async def test_a_tail_cut_off_under_the_head_is_found_by_the_chain(store: Store) -> None:
    await fill(store, 6)
    await tamper(store, sa.delete(audit_log).where(audit_log.c.id >= 5))
    verdict = await _verdict(store)
    assert (verdict.ok, verdict.first_bad_id) == (False, 5)
    assert "entries 5..6 are missing" in verdict.reason


async def test_a_truncated_tail_with_the_head_moved_back_is_found_only_by_the_anchor(
    store: Store,
) -> None:
    await fill(store, 6)
    anchor = await anchor_now(store)
    await truncate(store, keep=4)
    assert (await _verdict(store)).ok
    verdict = await _verdict(store, anchor)
    assert (verdict.ok, verdict.first_bad_id, verdict.entries) == (False, 5, 4)
    assert "entries 5..6 are missing" in verdict.reason
    assert "anchor" in verdict.reason


async def test_a_rehashed_forged_tail_is_found_only_by_the_anchor(store: Store) -> None:
    await fill(store, 6)
    anchor = await anchor_now(store)
    await forge_from(store, 6, outcome="4", client_id="innocent")
    assert (await _verdict(store)).ok
    verdict = await _verdict(store, anchor)
    assert (verdict.ok, verdict.first_bad_id, verdict.entries) == (False, 6, 5)
    assert "entry 6 does not match the anchor" in verdict.reason


async def test_a_forgery_reaching_back_before_the_anchored_entry_is_bounded_by_it(
    store: Store,
) -> None:
    """Only the anchored entry's original hash is known outside the database, so a stretch
    rewritten from an earlier entry is reported at the anchored entry, as 'at or before'."""
    await fill(store, 6)
    anchor = await anchor_now(store)
    await forge_from(store, 3, detail={"event": "case.read", "n": 0})
    assert (await _verdict(store)).ok
    verdict = await _verdict(store, anchor)
    assert (verdict.ok, verdict.first_bad_id) == (False, 6)
    assert "rewritten at or before entry 6" in verdict.reason


async def test_a_replaced_longer_tail_is_found_by_the_anchor(store: Store) -> None:
    await fill(store, 6)
    anchor = await anchor_now(store)
    await truncate(store, keep=5)
    await fill(store, 3)  # new entries 6..8 in place of the original 6
    assert (await _verdict(store)).ok
    verdict = await _verdict(store, anchor)
    assert (verdict.ok, verdict.first_bad_id) == (False, 6)


async def test_the_earlier_of_chain_and_anchor_findings_is_named(store: Store) -> None:
    await fill(store, 8)
    anchor = Anchor(last_id=6, hash="0" * 64, anchored_at=datetime.now(UTC))
    await tamper(store, sa.update(audit_log).where(audit_log.c.id == 7).values(outcome="8"))
    verdict = await _verdict(store, anchor)
    assert (verdict.ok, verdict.first_bad_id) == (False, 6)
    await tamper(store, sa.update(audit_log).where(audit_log.c.id == 2).values(outcome="8"))
    verdict = await _verdict(store, anchor)
    assert (verdict.ok, verdict.first_bad_id) == (False, 2)
