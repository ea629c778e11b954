"""Tracing setup: one trace follows a case from intake through the outbox to the payer.

The W3C trace context travels with the outbox job, so a worker's span continues the intake's
trace even in another process. Span attributes carry case ids and hashes, never PHI.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = TraceContextTextMapPropagator()
_configured = False


def configure_tracing(service_name: str = "casegate") -> None:
    """Install the SDK provider once; exporters are added by deployment (OTLP) where wanted."""
    global _configured  # noqa: PLW0603 - the global provider can be set only once per process
    if _configured:
        return
    trace.set_tracer_provider(
        TracerProvider(resource=Resource.create({"service.name": service_name}))
    )
    _configured = True


tracer = trace.get_tracer("casegate")


def current_carrier() -> dict[str, str]:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier


def context_from(carrier: Mapping[str, str]) -> context.Context:
    return _propagator.extract(dict(carrier))


def current_trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None
