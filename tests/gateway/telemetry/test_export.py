"""Where spans and metrics go: nowhere unless an OTLP endpoint is configured, then over OTLP/HTTP
to it (a real receiver on loopback here), scrubbed; and to an OTLP/JSON file for the demo."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.metrics import metric_readers
from gateway.redaction import REDACTED
from gateway.span_export import export_processors, otlp_json, scrubbed, trace_file_processor
from gateway.telemetry import CasegateTracerProvider, current_carrier


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """An OTLP/HTTP receiver on loopback: its base URL, and the (path, body) pairs it got."""
    received: list[tuple[str, bytes]] = []
    handler = type("Handler", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def _leaky_span() -> ReadableSpan:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("t").start_as_current_span("case.send") as span:
        span.set_attribute("case.id", "01JABCDEF0123456789ABCDEFG")
        span.set_attribute("http.url", "http://payer/v1/x?member=W123456789")
        span.set_attribute("member_id", "W123456789")
        span.set_attribute("db.statement", "connect postgresql://u:hunter2@db/x")
        span.set_attribute("http.request.header.authorization", ["Bearer abc"])
        span.record_exception(ValueError("patient Avery Testpatient"))
        span.set_status(2, "ValueError: patient Avery Testpatient")
    [finished] = memory.get_finished_spans()
    return finished


def test_scrubbed_spans_keep_ids_and_lose_phi_and_secrets() -> None:
    span = scrubbed(_leaky_span())
    attributes = dict(span.attributes or {})
    assert attributes == {
        "case.id": "01JABCDEF0123456789ABCDEFG",
        "http.url": "http://payer/v1/x",
        "member_id": REDACTED,
        "db.statement": f"connect postgresql://u:{REDACTED}@db/x",
        "http.request.header.authorization": REDACTED,
    }
    [event] = span.events
    assert event.name == "exception"
    assert set(event.attributes or {}) == {"exception.type", "exception.escaped"}
    assert (event.attributes or {})["exception.type"] == "ValueError"
    assert span.status.description is None
    assert "Avery" not in json.dumps(otlp_json([span]))


def test_nothing_is_exported_without_an_endpoint() -> None:
    assert export_processors({}) == []
    assert metric_readers({}) == []


def test_spans_and_metrics_go_over_otlp_http_when_an_endpoint_is_set(
    collector: tuple[str, list[tuple[str, bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, received = collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
    tracer_provider = TracerProvider()
    for processor in export_processors(environ):
        tracer_provider.add_span_processor(processor)
    with tracer_provider.get_tracer("t").start_as_current_span("case.intake") as span:
        span.set_attribute("member_id", "W123456789")
    meter_provider = MeterProvider(metric_readers=metric_readers(environ))
    meter_provider.get_meter("t").create_counter("casegate.test").add(1, {"outcome": "ok"})
    assert tracer_provider.force_flush()
    assert meter_provider.force_flush()
    tracer_provider.shutdown()
    meter_provider.shutdown()

    traces = [body for path, body in received if path == "/v1/traces"]
    assert traces
    request = ExportTraceServiceRequest()
    request.ParseFromString(traces[0])
    [exported] = request.resource_spans[0].scope_spans[0].spans
    assert exported.name == "case.intake"
    assert [(a.key, a.value.string_value) for a in exported.attributes] == [("member_id", REDACTED)]
    metrics_bodies = [body for path, body in received if path == "/v1/metrics"]
    assert metrics_bodies
    metrics_request = ExportMetricsServiceRequest()
    metrics_request.ParseFromString(metrics_bodies[-1])
    names = {
        metric.name
        for resource in metrics_request.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert "casegate.test" in names


def test_trace_file_is_otlp_json_with_hex_ids(tmp_path: Path) -> None:
    path = tmp_path / "out" / "trace.json"
    provider = TracerProvider()
    processor = trace_file_processor(path)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("casegate")
    with (
        tracer.start_as_current_span("case.intake") as parent,
        tracer.start_as_current_span("case.send"),
    ):
        pass
    processor.shutdown()
    document = json.loads(path.read_text())
    spans = {
        span["name"]: span
        for resource in document["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    }
    trace_id = format(parent.get_span_context().trace_id, "032x")
    assert spans["case.intake"]["traceId"] == trace_id
    assert spans["case.send"]["traceId"] == trace_id
    assert spans["case.send"]["parentSpanId"] == spans["case.intake"]["spanId"]
    assert len(spans["case.send"]["spanId"]) == 16
    assert spans["case.intake"]["kind"] == 1  # SPAN_KIND_INTERNAL, as an integer


def test_spans_are_recorded_only_once_something_exports_them() -> None:
    provider = CasegateTracerProvider(Resource.create({}))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("before") as before:
        carrier = current_carrier()
    assert not before.is_recording()
    assert before.get_span_context().is_valid  # ids for logs, audit and traceparent regardless
    assert carrier["traceparent"].startswith("00-")
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with tracer.start_as_current_span("after") as after:
        assert after.is_recording()
    assert [s.name for s in memory.get_finished_spans()] == ["after"]
