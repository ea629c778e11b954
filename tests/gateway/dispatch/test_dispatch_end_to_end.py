"""Cases through the real workers and the real payer sandbox, on both stores."""

from __future__ import annotations

import asyncio

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from connectors.sandbox import Fault
from gateway.store import cases, outbox
from tests.gateway.dispatch.conftest import SETTLED, LiveGateway


async def test_decisions_arrive_with_their_events(live: LiveGateway) -> None:
    approved = await live.submit("a")
    denied = await live.submit("d", procedure_code="43644")
    partial = await live.submit("p", procedure_code="J9035")
    case = await live.wait_for(approved, SETTLED)
    assert case["status"] == "approved"
    assert case["decision"]["auth_number"]
    assert case["route"] == "acme"
    assert case["decided_at"] is not None
    types = [e["type"] for e in await live.events(approved)]
    assert types == ["case.created", "case.submitted", "case.approved"]
    assert (await live.wait_for(denied, SETTLED))["decision"]["reason_code"] == "N"
    assert (await live.wait_for(partial, SETTLED))["status"] == "partially_approved"
    assert live.payer.effects(f"{approved}:prior_auth.submit") == 1
    async with live.runtime.store.connect() as conn:
        stored = await cases.list_messages(
            conn, live.runtime.store.cipher, errors_only=False, limit=50
        )
    directions = sorted(m.direction for m in stored if m.case_id == approved)
    assert directions == ["inbound", "inbound", "outbound"]  # the request, then the payer's pair


async def test_pended_case_is_followed_up_to_a_decision(live: LiveGateway) -> None:
    case_id = await live.submit("pend", procedure_code="72148")
    case = await live.wait_for(case_id, {"approved"})
    types = [e["type"] for e in await live.events(case_id)]
    assert types == ["case.created", "case.submitted", "case.pended", "case.approved"]
    assert case["decision"]["outcome"] == "approved"


async def test_transient_faults_are_retried_without_a_second_effect(live: LiveGateway) -> None:
    live.payer.inject(Fault.unavailable, 2)
    live.payer.inject(Fault.lost_response, 1)
    case_id = await live.submit("t")
    case = await live.wait_for(case_id, SETTLED, timeout=30)
    assert case["status"] == "approved"
    assert live.payer.effects(f"{case_id}:prior_auth.submit") == 1


async def test_permanent_fault_dead_letters_and_replay_recovers(live: LiveGateway) -> None:
    live.payer.inject(Fault.bad_request, 1)
    case_id = await live.submit("bad")
    for _ in range(200):
        async with live.runtime.store.connect() as conn:
            dead = await outbox.list_dead(conn, 10)
        if dead:
            break
        await asyncio.sleep(0.05)
    [job] = dead
    assert job.case_id == case_id
    assert job.last_error
    case = await live.case(case_id)
    assert case["status"] == "draft"
    assert [e["type"] for e in await live.events(case_id)][-1] == "case.send_failed"
    async with live.runtime.store.begin() as conn:
        assert await outbox.replay_dead(conn, job.id) == 1
    assert (await live.wait_for(case_id, SETTLED))["status"] == "approved"


async def test_garbage_answers_retry_then_dead_letter_with_the_reason(live: LiveGateway) -> None:
    live.payer.inject(Fault.malformed, 10)
    case_id = await live.submit("garbage")
    for _ in range(200):
        async with live.runtime.store.connect() as conn:
            dead = await outbox.list_dead(conn, 10)
        if dead:
            break
        await asyncio.sleep(0.05)
    [job] = dead
    assert job.attempts == 3
    assert "gave up after 3 attempts" in (job.last_error or "")
    assert (await live.case(case_id))["status"] == "draft"


async def test_a_poison_job_does_not_hold_back_the_others(live: LiveGateway) -> None:
    unrouted = await live.submit("nowhere", payer_id="NOPAYER")
    others = [await live.submit(f"ok{i}") for i in range(5)]
    for case_id in others:
        assert (await live.wait_for(case_id, SETTLED))["status"] == "approved"
    async with live.runtime.store.connect() as conn:
        dead = await outbox.list_dead(conn, 10)
    assert [j.case_id for j in dead] == [unrouted]
    assert dead[0].last_error == "no route for payer NOPAYER and case type prior_authorization"


async def test_one_trace_follows_the_case_to_the_payer(live: LiveGateway) -> None:
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    case_id = await live.submit("traced")
    await live.wait_for(case_id, SETTLED)
    [created] = [e for e in await live.events(case_id) if e["type"] == "case.created"]
    trace_id = created["data"]["trace_id"]
    spans = {s.name: format(s.context.trace_id, "032x") for s in exporter.get_finished_spans()}
    assert spans["case.intake"] == trace_id
    assert spans["case.send"] == trace_id
