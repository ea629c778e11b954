"""One trace follows a case: the API request, intake, the worker's attempt, the connector call
and the HTTP request that reaches the payer, whose `traceparent` carries the intake's trace."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from tests.gateway.dispatch.conftest import SETTLED
from tests.gateway.telemetry.conftest import ObservedGateway


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def _parent_chain(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    names = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


async def test_intake_worker_and_payer_call_share_the_intakes_trace(
    observed: ObservedGateway,
) -> None:
    case_id = await observed.live.submit("traced")
    await observed.live.wait_for(case_id, SETTLED)
    [created] = [e for e in await observed.live.events(case_id) if e["type"] == "case.created"]
    trace_id = created["data"]["trace_id"]

    spans = [s for s in observed.finished_spans() if _hex(s.context.trace_id, 32) == trace_id]
    by_name = {s.name: s for s in spans}
    assert {
        "POST /v1/prior-authorizations",
        "case.intake",
        "case.send",
        "prior_auth.submit",
        "case.record",
    } <= set(by_name)

    server = by_name["POST /v1/prior-authorizations"]
    assert server.kind is SpanKind.SERVER
    assert (server.attributes or {})["http.route"] == "/v1/prior-authorizations"
    intake = by_name["case.intake"]
    assert intake.attributes == {
        "case.type": "prior_authorization",
        "casegate.outcome": "accepted",
        "payer.id": "ACMEHP",
        "case.id": case_id,
    }
    attempt = by_name["case.send"]
    assert attempt.attributes is not None
    assert attempt.attributes["case.id"] == case_id
    assert attempt.attributes["job.attempt"] == 1
    assert attempt.attributes["casegate.outcome"] == "done"
    call = by_name["prior_auth.submit"]
    assert call.attributes is not None
    assert call.attributes["connector.name"] == "acme"

    by_id = {s.context.span_id: s for s in spans}
    [payer_http] = [
        s
        for s in spans
        if s.kind is SpanKind.CLIENT
        and "/v1/prior-auth-requests" in str((s.attributes or {}).get("http.url"))
    ]
    assert _parent_chain(payer_http, by_id) == [
        "prior_auth.submit",
        "case.send",
        "case.intake",
        "POST /v1/prior-authorizations",
    ]
    # The job's span hangs under intake through the context stored with the outbox job.
    assert attempt.parent is not None
    assert attempt.parent.span_id == intake.context.span_id

    # What went over the wire: the traceparent of the HTTP span, in the intake's trace.
    sent = [header.split("-") for header in observed.tap.seen]
    assert ["00", trace_id, _hex(payer_http.context.span_id, 16)] in [h[:3] for h in sent]


async def test_every_api_response_carries_a_request_id_and_a_routed_span(
    observed: ObservedGateway,
) -> None:
    case_id = await observed.live.submit("ids")
    first = await observed.live.api.get(f"/v1/cases/{case_id}")
    second = await observed.live.api.get(f"/v1/cases/{case_id}")
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2
    reads = [s for s in observed.finished_spans() if s.name == "GET /v1/cases/{case_id}"]
    assert len(reads) == 2
    for span in reads:
        assert span.attributes is not None
        assert span.attributes["case.id"] == case_id
        assert span.attributes["http.target"] == "/v1/cases/{case_id}"
