"""The server span of an API request: named by route, without the query string, the concrete
path or credential headers, even when an operator asks the instrumentation to capture headers."""

from __future__ import annotations

import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import AsyncTestClient
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.metrics import HTTP_SERVER_DURATION, gateway_metrics
from gateway.redaction import REDACTED
from gateway.request_tracing import UNMATCHED_ROUTE, request_tracing


@get("/v1/things/{thing_id:str}")
async def read_thing(thing_id: FromPath[str]) -> dict[str, str]:
    return {"id": thing_id}


def _app(reader: InMemoryMetricReader) -> Litestar:
    metrics = gateway_metrics(MeterProvider(metric_readers=[reader]))
    return Litestar([read_thing], middleware=[request_tracing(metrics)], logging_config=None)


async def test_span_names_the_route_and_drops_query_path_and_credentials(
    span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", ".*")
    reader = InMemoryMetricReader()
    async with AsyncTestClient(_app(reader)) as client:
        found = await client.get(
            "/v1/things/W123456789",
            params={"member": "W123456789"},
            headers={"Authorization": "Bearer s3cret", "Cookie": "session=s3cret"},
        )
        missing = await client.get("/v1/W123456789", params={"member": "W123456789"})
    assert found.status_code == 200
    assert missing.status_code == 404
    assert found.headers["x-request-id"] != missing.headers["x-request-id"]

    routed, unrouted = [s for s in span_exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert routed.name == "GET /v1/things/{thing_id}"
    attributes = dict(routed.attributes or {})
    assert attributes["http.route"] == "/v1/things/{thing_id}"
    assert attributes["http.target"] == "/v1/things/{thing_id}"
    assert str(attributes["http.url"]).endswith("/v1/things/{thing_id}")
    assert attributes["http.request.header.authorization"] == ("[REDACTED]",)
    assert attributes["http.request.header.cookie"] == ("[REDACTED]",)
    assert unrouted.name == "GET"
    assert dict(unrouted.attributes or {})["http.target"] == REDACTED
    everything = repr([dict(s.attributes or {}) for s in (routed, unrouted)])
    assert "W123456789" not in everything
    assert "s3cret" not in everything

    data = reader.get_metrics_data()
    assert data is not None
    routes = {
        (point.attributes or {})["http.route"]: point.count
        for metric in data.resource_metrics[0].scope_metrics[0].metrics
        if metric.name == HTTP_SERVER_DURATION
        for point in metric.data.data_points
        if isinstance(point, HistogramDataPoint)
    }
    assert routes == {"/v1/things/{thing_id}": 1, UNMATCHED_ROUTE: 1}


async def test_span_continues_the_callers_trace(span_exporter: InMemorySpanExporter) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    async with AsyncTestClient(_app(InMemoryMetricReader())) as client:
        response = await client.get(
            "/v1/things/a1", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"}
        )
    assert response.status_code == 200
    [server] = [s for s in span_exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert format(server.context.trace_id, "032x") == trace_id
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == parent_id
    assert dict(server.attributes or {})["http.status_code"] == 200
