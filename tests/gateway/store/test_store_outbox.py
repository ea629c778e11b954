"""Outbox claims with leases: exclusivity, expiry, owner-only settlement, dead letters."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from gateway.store.clock import utcnow
from gateway.store.engine import Store, open_store
from gateway.store.outbox import (
    claim_jobs,
    complete_job,
    dead_letter,
    enqueue,
    heartbeat,
    list_dead,
    queue_stats,
    replay_dead,
    retry_job,
)
from gateway.store.records import NewJob

PAST = datetime(2025, 1, 1, tzinfo=UTC)
TRACE = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}


def _job(n: int = 0, available_at: datetime = PAST) -> NewJob:
    return NewJob(
        kind="case.send",
        case_id=f"case-{n}",
        connector="payer_rest",
        payload={"n": n},
        trace_context=TRACE,
        available_at=available_at,
    )


async def _enqueue(store: Store, count: int) -> list[int]:
    async with store.begin() as conn:
        return [await enqueue(conn, _job(n)) for n in range(count)]


@pytest.fixture
async def second_store(store: Store, store_url: str) -> AsyncIterator[Store]:
    """Another process's view of the same database."""
    other = await open_store(store_url, bytes(range(32)))
    yield other
    await other.close()


async def test_enqueued_job_is_claimed_with_its_trace_context(store: Store) -> None:
    [job_id] = await _enqueue(store, 1)
    [job] = await claim_jobs(store, "w1", limit=10, lease_seconds=30)
    assert (job.id, job.status, job.lease_owner, job.attempts) == (job_id, "leased", "w1", 1)
    assert job.trace_context == TRACE and job.payload == {"n": 0}
    assert job.lease_expires_at is not None
    assert job.lease_expires_at - utcnow() > timedelta(seconds=25)
    assert await claim_jobs(store, "w2", limit=10, lease_seconds=30) == []


async def test_concurrent_claimers_never_share_a_job(store: Store, second_store: Store) -> None:
    job_ids = await _enqueue(store, 60)
    claimed: list[tuple[str, int]] = []

    async def worker(source: Store, owner: str) -> None:
        while jobs := await claim_jobs(source, owner, limit=4, lease_seconds=60):
            claimed.extend((owner, job.id) for job in jobs)
            await asyncio.sleep(0)

    await asyncio.gather(
        *(worker(store, f"a{i}") for i in range(3)),
        *(worker(second_store, f"b{i}") for i in range(3)),
    )
    ids = [job_id for _, job_id in claimed]
    assert sorted(ids) == job_ids  # every job once, none twice
    assert len({owner for owner, _ in claimed}) > 1


async def test_expired_lease_is_reclaimed_and_the_old_owner_cannot_settle(store: Store) -> None:
    [job_id] = await _enqueue(store, 1)
    [first] = await claim_jobs(store, "w1", limit=1, lease_seconds=0)
    [again] = await claim_jobs(store, "w2", limit=1, lease_seconds=30)
    assert (again.id, again.lease_owner, again.attempts) == (first.id, "w2", 2)
    async with store.begin() as conn:
        assert not await complete_job(conn, job_id, "w1")
        assert not await dead_letter(conn, job_id, "w1", "late")
        assert await complete_job(conn, job_id, "w2")
    async with store.connect() as conn:
        stats = await queue_stats(conn)
    assert (stats.pending, stats.leased, stats.dead) == (0, 0, 0)


async def test_only_the_owner_retries_and_retries_wait_until_due(store: Store) -> None:
    [job_id] = await _enqueue(store, 1)
    await claim_jobs(store, "w1", limit=1, lease_seconds=30)
    later = utcnow() + timedelta(hours=1)
    async with store.begin() as conn:
        assert not await retry_job(conn, job_id, "w2", "HTTP 503 from payer", later)
        assert await retry_job(conn, job_id, "w1", "HTTP 503 from payer", later)
        assert not await retry_job(conn, job_id, "w1", "twice", later)  # no longer leased
    assert await claim_jobs(store, "w1", limit=1, lease_seconds=30) == []
    async with store.connect() as conn:
        stats = await queue_stats(conn)
    assert (stats.pending, stats.leased, stats.oldest_pending_age_seconds) == (1, 0, 0.0)


async def test_dead_letters_are_listed_and_replayed(store: Store) -> None:
    job_ids = await _enqueue(store, 3)
    jobs = await claim_jobs(store, "w1", limit=3, lease_seconds=30)
    async with store.begin() as conn:
        assert not await dead_letter(conn, jobs[0].id, "w2", "not mine")
        for job in jobs[:2]:
            assert await dead_letter(conn, job.id, "w1", "payer rejected: invalid NPI")
    async with store.connect() as conn:
        dead = await list_dead(conn, limit=10)
        stats = await queue_stats(conn)
    assert [j.id for j in dead] == job_ids[:2]
    assert dead[0].last_error == "payer rejected: invalid NPI" and dead[0].attempts == 1
    assert (stats.pending, stats.leased, stats.dead) == (0, 1, 2)
    async with store.begin() as conn:
        assert await replay_dead(conn, job_ids[0]) == 1
        assert await replay_dead(conn, job_ids[2]) == 0  # leased, not dead
        assert await replay_dead(conn, None) == 1
    reclaimed = await claim_jobs(store, "w3", limit=10, lease_seconds=30)
    assert [(j.id, j.attempts) for j in reclaimed] == [(job_ids[0], 1), (job_ids[1], 1)]


async def test_heartbeat_extends_only_leases_still_held(store: Store) -> None:
    job_ids = await _enqueue(store, 2)
    await claim_jobs(store, "w1", limit=2, lease_seconds=0)
    [stolen] = await claim_jobs(store, "w2", limit=1, lease_seconds=30)
    held = await heartbeat(store, "w1", job_ids, lease_seconds=30)
    assert held == set(job_ids) - {stolen.id}
    assert await claim_jobs(store, "w3", limit=2, lease_seconds=30) == []
    assert await heartbeat(store, "w1", [], lease_seconds=30) == set()


async def test_queue_age_counts_only_due_pending_jobs(store: Store) -> None:
    async with store.begin() as conn:
        await enqueue(conn, _job(1, available_at=utcnow() - timedelta(seconds=120)))
        await enqueue(conn, _job(2, available_at=utcnow() + timedelta(hours=1)))
    async with store.connect() as conn:
        stats = await queue_stats(conn)
    assert stats.pending == 2
    assert 119 <= stats.oldest_pending_age_seconds < 180
