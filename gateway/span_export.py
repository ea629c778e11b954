"""Where spans go: an OTLP/HTTP collector when one is configured, a JSON file for the demo, and
always through the PHI scrub first.

Spans are built to carry ids and outcomes only; the scrub is the second line of defence, for an
instrumentation library that records more than it should (a query string, a captured header,
an exception message). It runs in the exporting thread, off the request path.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import Attributes, AttributeValue

from gateway.redaction import REDACTED, is_sensitive_key, scrub_text

OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_URL_KEYS = frozenset({"http.url", "url.full"})
_EXCEPTION_EVENT = "exception"
_EXCEPTION_KEPT = frozenset({"exception.type", "exception.escaped"})


def _scrub_attribute(key: str, value: AttributeValue) -> AttributeValue:
    if is_sensitive_key(key) or key == "url.query":
        return REDACTED
    if isinstance(value, str):
        if key in _URL_KEYS:
            value = value.split("?", 1)[0]
        return scrub_text(value)
    if isinstance(value, Sequence) and value and isinstance(value[0], str):
        return [scrub_text(str(item)) for item in value]
    return value


def scrub_attributes(attributes: Attributes) -> dict[str, AttributeValue]:
    return {key: _scrub_attribute(key, value) for key, value in (attributes or {}).items()}


def _scrub_event(event: Event) -> Event:
    attributes: Mapping[str, AttributeValue] = event.attributes or {}
    if event.name == _EXCEPTION_EVENT:
        # The type says what failed; the message and the stack text may quote the input.
        attributes = {k: v for k, v in attributes.items() if k in _EXCEPTION_KEPT}
    return Event(scrub_text(event.name), scrub_attributes(attributes), event.timestamp)


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    """A copy of the span with sensitive attributes masked; a status keeps its code only."""
    return ReadableSpan(
        name=scrub_text(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=scrub_attributes(span.attributes),
        events=[_scrub_event(event) for event in span.events],
        links=[Link(link.context, scrub_attributes(link.attributes)) for link in span.links],
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class ScrubbingSpanExporter(SpanExporter):
    """Hands the wrapped exporter scrubbed copies of the spans, never the originals."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([scrubbed(span) for span in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


def export_processors(environ: Mapping[str, str]) -> list[SpanProcessor]:
    """OTLP/HTTP export when the standard endpoint variable is set; nothing otherwise.

    The exporter reads the rest of its settings (headers, certificates, timeout) from the
    standard OTEL_EXPORTER_OTLP_* variables itself.
    """
    if not any(environ.get(name) for name in OTLP_ENDPOINT_VARIABLES):
        return []
    return [BatchSpanProcessor(ScrubbingSpanExporter(OTLPSpanExporter()))]


def _hex_id(encoded: str) -> str:
    return base64.b64decode(encoded).hex()


def _hex_ids(item: dict[str, Any]) -> None:
    for key in ("traceId", "spanId", "parentSpanId"):
        if item.get(key):
            item[key] = _hex_id(item[key])


def otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """The spans as an OTLP/JSON ExportTraceServiceRequest.

    That is the protobuf JSON mapping, except that OTLP/JSON writes trace and span ids as hex
    rather than base64 (so a trace id here matches the one in logs and in the audit trail).
    """
    document: dict[str, Any] = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                _hex_ids(span)
                for link in span.get("links", []):
                    _hex_ids(link)
    document.setdefault("resourceSpans", [])
    return document


class OtlpJsonFileExporter(SpanExporter):
    """Keeps the spans it is given and writes them as one OTLP/JSON document on shutdown,
    for a person to load into a trace viewer."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._spans: list[ReadableSpan] = []
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            self._spans.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            document = otlp_json(self._spans)
            self._spans = []
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def trace_file_processor(path: Path) -> SpanProcessor:
    """Spans to an OTLP/JSON file, scrubbed; the file is written when the processor shuts down."""
    return BatchSpanProcessor(ScrubbingSpanExporter(OtlpJsonFileExporter(path)))
