"""Tracing: one trace follows a case from intake through the outbox to the payer.

The W3C trace context travels with the outbox job, so a worker's span continues the intake's
trace even in another process; outbound HTTP (httpx, instrumented here) carries `traceparent`.
Span attributes carry ids and outcomes under the names below, never PHI; spans leave the
process only through the scrubbing exporter in `gateway.span_export`.

The SDK provider is installed even when nothing is exported: trace ids are also what the audit
trail and the logs use to tie one case's records together. Until some span processor is added,
though, spans are not recorded (only their ids are made and propagated): recording a span costs
tens of microseconds that nobody would read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, TraceState
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes

from gateway.span_export import export_processors

# Span attribute names. Values are casegate's own ids, codes and outcomes.
CASE_ID = "case.id"
CASE_TYPE = "case.type"
PAYER_ID = "payer.id"
CONNECTOR_NAME = "connector.name"
CONNECTOR_OPERATION = "connector.operation"
CONNECTOR_TRY = "connector.try"
JOB_ID = "job.id"
JOB_KIND = "job.kind"
JOB_ATTEMPT = "job.attempt"
OUTCOME = "casegate.outcome"
DECISION_OUTCOME = "decision.outcome"
ERROR_TYPE = "error.type"

_propagator = TraceContextTextMapPropagator()
_configured = False

tracer = trace.get_tracer("casegate")


class RecordWhenExported(Sampler):
    """Parent-based sampling once spans are exported somewhere; no recording before that.

    A dropped span still gets its ids, so trace ids reach logs, the audit trail and outbound
    `traceparent` headers either way (marked not sampled).
    """

    def __init__(self) -> None:
        self.exporting = False
        self._exported = ParentBased(ALWAYS_ON)

    def should_sample(  # noqa: PLR0917 - the SDK's Sampler signature
        self,
        parent_context: context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        sampler = self._exported if self.exporting else ALWAYS_OFF
        return sampler.should_sample(parent_context, trace_id, name, kind, attributes, links)

    def get_description(self) -> str:
        return f"RecordWhenExported{{exporting:{self.exporting}}}"


class CasegateTracerProvider(TracerProvider):
    """The SDK provider, recording spans from the moment a processor is added."""

    def __init__(self, resource: Resource) -> None:
        self._sampling = RecordWhenExported()
        super().__init__(resource=resource, sampler=self._sampling)

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        super().add_span_processor(span_processor)
        self._sampling.exporting = True


def configure_tracing(
    service_name: str = "casegate",
    environ: Mapping[str, str] | None = None,
    extra_processors: tuple[SpanProcessor, ...] = (),
) -> TracerProvider:
    """Install the SDK provider once per process, exporting over OTLP/HTTP if configured.

    `extra_processors` are added on every call (the demo's `--trace-out` file, for one). The
    global propagator is narrowed to W3C trace context: a caller's `baggage` header must not
    ride along to payers.
    """
    global _configured  # noqa: PLW0603 - the global provider can be set only once per process
    environ = os.environ if environ is None else environ
    if not _configured:
        resource = Resource.create(
            {} if environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
        )
        provider = CasegateTracerProvider(resource)
        for processor in export_processors(environ):
            provider.add_span_processor(processor)
        trace.set_tracer_provider(provider)
        propagate.set_global_textmap(_propagator)
        instrumentor = HTTPXClientInstrumentor()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()
        _configured = True
    installed = trace.get_tracer_provider()
    if not isinstance(installed, TracerProvider):
        raise RuntimeError("another tracer provider was installed before casegate's")
    for processor in extra_processors:
        installed.add_span_processor(processor)
    return installed


def record_failure(span: Span, error: BaseException) -> None:
    """Mark a span failed by the error's type alone: its message may quote PHI."""
    span.set_status(Status(StatusCode.ERROR))
    span.set_attribute(ERROR_TYPE, type(error).__name__)


@contextmanager
def traced(
    name: str,
    *,
    parent: context.Context | None = None,
    expected: tuple[type[Exception], ...] = (),
) -> Iterator[Span]:
    """A current span that records an escaping exception by its type only.

    The SDK's default would store the exception's message and stack text on the span, where
    a validation error quotes its input. `expected` exceptions (a caller's mistake answered
    with a 4xx) pass through without marking the span failed. The span is started and made
    current by hand rather than through `start_as_current_span`, whose three nested context
    managers cost more than the span itself on the intake path.
    """
    span = tracer.start_span(name, context=parent)
    token = context.attach(trace.set_span_in_context(span))
    try:
        yield span
    except expected:
        raise
    except Exception as exc:
        record_failure(span, exc)
        raise
    finally:
        context.detach(token)
        span.end()


def current_carrier() -> dict[str, str]:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier


def context_from(carrier: Mapping[str, str]) -> context.Context:
    return _propagator.extract(dict(carrier))


def current_trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None
