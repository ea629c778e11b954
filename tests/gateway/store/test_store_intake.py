"""Group commit intake: idempotency outcomes, batching, and failure isolation."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from gateway.store.audit import verify_chain
from gateway.store.cases import get_message, list_events
from gateway.store.engine import Store
from gateway.store.intake import GroupCommitter, IntakeRecord, IntakeStoppedError
from gateway.store.schema import (
    audit_log,
    case_events,
    cases,
    idempotency_keys,
    messages,
    outbox_jobs,
)


@pytest.fixture
async def committer(store: Store) -> AsyncIterator[GroupCommitter]:
    running = GroupCommitter(store)
    await running.start()
    yield running
    await running.stop()


async def _counts(store: Store) -> dict[str, int]:
    tables = (cases, case_events, outbox_jobs, messages, audit_log, idempotency_keys)
    async with store.connect() as conn:
        return {
            table.name: (
                await conn.execute(sa.select(sa.func.count()).select_from(table))
            ).scalar_one()
            for table in tables
        }


def _all(n: int) -> dict[str, int]:
    return dict.fromkeys(
        ("cases", "case_events", "outbox_jobs", "messages", "audit_log", "idempotency_keys"), n
    )


async def test_accepted_writes_everything_and_answers_with_the_claim(
    store: Store, committer: GroupCommitter, make_record
) -> None:
    record: IntakeRecord = make_record("key-1")
    outcome = await committer.submit(record)
    assert outcome.kind == "accepted"
    assert (outcome.status, outcome.body) == (202, record.idempotency.response_body)
    assert await _counts(store) == _all(1)
    async with store.connect() as conn:
        [event] = await list_events(conn, record.case.id)
        message = await get_message(conn, store.cipher, record.message.id)
        job = (await conn.execute(sa.select(outbox_jobs))).one()
        stored_key = (await conn.execute(sa.select(idempotency_keys))).one()
        assert (await verify_chain(conn)).ok
    assert event.seq == 1 and event.to_status == "received"
    assert message is not None and message.body == record.message.body
    assert job.trace_context == record.job.trace_context and job.status == "pending"
    assert stored_key.case_id == record.case.id


async def test_same_key_same_fingerprint_is_replayed_without_a_second_case(
    store: Store, committer: GroupCommitter, make_record
) -> None:
    first = make_record("key-1", fingerprint="a" * 64)
    await committer.submit(first)
    again = await committer.submit(make_record("key-1", fingerprint="a" * 64))
    assert again.kind == "replayed"
    assert (again.status, again.body) == (202, first.idempotency.response_body)
    assert await _counts(store) == _all(1)


async def test_same_key_other_fingerprint_is_a_mismatch(
    store: Store, committer: GroupCommitter, make_record
) -> None:
    await committer.submit(make_record("key-1", fingerprint="a" * 64))
    other = await committer.submit(make_record("key-1", fingerprint="b" * 64))
    assert (other.kind, other.status) == ("mismatch", 422)
    assert await _counts(store) == _all(1)


async def test_keys_are_scoped_by_client(
    store: Store, committer: GroupCommitter, make_record
) -> None:
    one = await committer.submit(make_record("key-1", client_id="app-1"))
    two = await committer.submit(make_record("key-1", client_id="app-2"))
    assert (one.kind, two.kind) == ("accepted", "accepted")
    assert await _counts(store) == _all(2)


async def test_a_key_being_written_is_in_flight_and_the_first_wins(
    store: Store, committer: GroupCommitter, make_record
) -> None:
    first, second = make_record("key-1"), make_record("key-1")
    outcomes = await asyncio.gather(committer.submit(first), committer.submit(second))
    assert [o.kind for o in outcomes] == ["accepted", "in_flight"]
    assert outcomes[1].status == 409
    async with store.connect() as conn:
        stored = (await conn.execute(sa.select(cases.c.id))).scalars().all()
    assert stored == [first.case.id]
    later = await committer.submit(make_record("key-1"))
    assert later.kind == "replayed"


async def test_two_hundred_concurrent_submits_share_few_transactions(
    store: Store, committer: GroupCommitter, make_record
) -> None:
    records = [make_record(f"key-{i}") for i in range(200)]
    outcomes = await asyncio.gather(*(committer.submit(r) for r in records))
    assert {o.kind for o in outcomes} == {"accepted"}
    assert committer.rows == 200
    assert committer.batches <= 10
    assert await _counts(store) == _all(200)
    async with store.connect() as conn:
        verdict = await verify_chain(conn)
    assert (verdict.ok, verdict.entries) == (True, 200)


async def test_a_failing_record_does_not_fail_its_neighbours(
    store: Store, committer: GroupCommitter, make_record, make_case
) -> None:
    taken = make_case()
    await committer.submit(make_record("key-0", case=taken))
    records = [make_record(f"key-{i}") for i in range(1, 11)]
    culprit = make_record("key-bad", case=taken)  # a case id that is already stored
    records.insert(5, culprit)
    batches_before = committer.batches
    results = await asyncio.gather(*(committer.submit(r) for r in records), return_exceptions=True)
    assert isinstance(results[5], IntegrityError)
    assert [r.kind for i, r in enumerate(results) if i != 5] == ["accepted"] * 10
    assert committer.batches - batches_before == 1 + len(records)  # the batch, then one by one
    assert await _counts(store) == _all(11)
    async with store.connect() as conn:
        keys = (await conn.execute(sa.select(idempotency_keys.c.key))).scalars().all()
    assert "key-bad" not in keys
    # The culprit's key was released: fixed and resent, it goes through.
    fixed = await committer.submit(make_record("key-bad"))
    assert fixed.kind == "accepted"


async def test_a_rejected_input_keeps_its_message_and_audit_only(
    store: Store, committer: GroupCommitter, make_record, make_audit
) -> None:
    full = make_record(None, body=b"garbage{")
    rejected = IntakeRecord(
        idempotency=None,
        case=None,
        event=None,
        job=None,
        message=full.message,
        audit=make_audit(None, action="case.reject"),
    )
    outcome = await committer.submit(rejected)
    assert (outcome.kind, outcome.status, outcome.body) == ("accepted", 0, b"")
    counts = await _counts(store)
    assert (counts["messages"], counts["audit_log"]) == (1, 1)
    assert counts["cases"] == counts["outbox_jobs"] == counts["idempotency_keys"] == 0


async def test_stop_drains_the_queue_then_refuses(store: Store, make_record) -> None:
    committer = GroupCommitter(store, max_batch=4)
    with pytest.raises(IntakeStoppedError):
        await committer.submit(make_record("early"))
    await committer.start()
    waiting = [asyncio.create_task(committer.submit(make_record(f"k{i}"))) for i in range(10)]
    await asyncio.sleep(0)  # let every submit queue its record
    await committer.stop()
    assert all(task.done() for task in waiting)
    assert {task.result().kind for task in waiting} == {"accepted"}
    assert committer.batches >= 3  # max_batch caps each transaction
    with pytest.raises(IntakeStoppedError, match="not running"):
        await committer.submit(make_record("late"))
    assert (await _counts(store))["cases"] == 10
