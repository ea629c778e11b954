"""The batched audit writer: many callers, few transactions, nobody released before the commit."""

import asyncio
from dataclasses import replace
from types import SimpleNamespace

import pytest

from gateway.audit.verify import verify_trail
from gateway.audit.writer import AuditStoppedError, AuditWriter, audit_writer_in
from gateway.store.engine import Store
from tests.gateway.audit.support import entry, rows


async def test_concurrent_entries_share_transactions_and_form_one_chain(store: Store) -> None:
    writer = AuditWriter(store)
    await writer.start()
    try:
        await asyncio.gather(*(writer.record(entry(n)) for n in range(60)))
    finally:
        await writer.stop()
    written = await rows(store)
    assert sorted(r.detail["n"] for r in written) == list(range(60))
    assert [r.id for r in written] == list(range(1, 61))
    assert writer.rows == 60
    assert writer.batches < 60
    async with store.connect() as conn:
        assert (await verify_trail(conn)).ok


async def test_a_caller_is_released_only_after_its_entry_is_committed(store: Store) -> None:
    writer = AuditWriter(store)
    await writer.start()
    try:
        await writer.record(entry(1, case_id="case-visible"))
        # A separate connection sees it at once: the commit happened before record returned.
        assert [r.case_id for r in await rows(store)] == ["case-visible"]
    finally:
        await writer.stop()


async def test_stop_writes_what_is_queued_then_refuses(store: Store) -> None:
    writer = AuditWriter(store, max_batch=4)
    await writer.start()
    waiting = [asyncio.create_task(writer.record(entry(n))) for n in range(10)]
    await asyncio.sleep(0)  # every record is queued
    await writer.stop()
    await asyncio.gather(*waiting)
    assert len(await rows(store)) == 10
    with pytest.raises(AuditStoppedError):
        await writer.record(entry(11))


async def test_an_unstarted_writer_refuses(store: Store) -> None:
    with pytest.raises(AuditStoppedError, match="not running"):
        await AuditWriter(store).record(entry(1))


async def test_one_unwritable_entry_fails_only_its_own_caller(store: Store) -> None:
    writer = AuditWriter(store)
    await writer.start()
    bad = replace(entry(2), detail={"ratio": float("nan")})
    try:
        results = await asyncio.gather(
            writer.record(entry(1)),
            writer.record(bad),
            writer.record(entry(3)),
            return_exceptions=True,
        )
    finally:
        await writer.stop()
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], ValueError)
    assert sorted(r.detail["n"] for r in await rows(store)) == [1, 3]


async def test_batch_size_must_be_positive(store: Store) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        AuditWriter(store, max_batch=0)


async def test_the_writer_is_found_in_app_state_only_when_a_runtime_holds_one(
    store: Store,
) -> None:
    writer = AuditWriter(store)
    assert audit_writer_in({"runtime": SimpleNamespace(audit=writer)}) is writer
    assert audit_writer_in({}) is None
    assert audit_writer_in({"runtime": SimpleNamespace(audit="not a writer")}) is None
