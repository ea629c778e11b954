"""The per-kind outbox sample behind the queue gauges, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.queue_sampler import KindStats, QueueSampler, queue_stats_by_kind
from gateway.store import outbox
from gateway.store.engine import Store
from gateway.store.records import NewJob
from tests.gateway.store.conftest import store, store_url  # noqa: F401 - the fixtures


def _job(kind: str, due_in_seconds: float) -> NewJob:
    return NewJob(
        kind=kind,
        case_id=None,
        connector=None,
        payload={},
        trace_context={},
        available_at=datetime.now(UTC) + timedelta(seconds=due_in_seconds),
    )


async def _enqueue(store: Store, job: NewJob) -> int:  # noqa: F811 - fixture name reused
    async with store.begin() as conn:
        return await outbox.enqueue(conn, job)


async def test_depth_by_state_and_oldest_due_age_per_kind(store: Store) -> None:  # noqa: F811
    dead = await _enqueue(store, _job("case.follow_up", -120))
    assert [j.id for j in await outbox.claim_jobs(store, "w", 1, 30)] == [dead]
    async with store.begin() as conn:
        assert await outbox.dead_letter(conn, dead, "w", "HTTP 400: request refused")
    leased = await _enqueue(store, _job("case.send", -60))
    assert [j.id for j in await outbox.claim_jobs(store, "w", 1, 30)] == [leased]
    await _enqueue(store, _job("case.send", -30))
    await _enqueue(store, _job("case.send", 3600))

    async with store.connect() as conn:
        send, follow_up = sorted(await queue_stats_by_kind(conn), key=lambda s: s.kind)[::-1]
    assert (send.kind, send.pending, send.leased, send.dead) == ("case.send", 2, 1, 0)
    assert 29 < send.oldest_due_age_seconds < 60
    assert follow_up == KindStats("case.follow_up", dead=1)


async def test_a_kind_whose_queue_empties_reports_zeros(store: Store) -> None:  # noqa: F811
    job_id = await _enqueue(store, _job("case.follow_up", -1))
    sampler = QueueSampler(store)
    await sampler.refresh()
    assert ("case.follow_up", "pending", 1) in list(sampler.depth())
    await outbox.claim_jobs(store, "w", 1, 30)
    async with store.begin() as conn:
        assert await outbox.complete_job(conn, job_id, "w")
    await sampler.refresh()
    assert sorted(sampler.depth()) == [
        ("case.follow_up", "dead", 0),
        ("case.follow_up", "leased", 0),
        ("case.follow_up", "pending", 0),
    ]
    assert list(sampler.oldest_age()) == [("case.follow_up", 0.0)]
