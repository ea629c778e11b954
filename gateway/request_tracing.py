"""A server span for every API request, a request id for every response, and nothing a caller
typed in either.

The span is the one the OpenTelemetry ASGI instrumentation would make (same kind, name and
attributes, context taken from the caller's `traceparent`), made by a lean middleware of our
own: the library's spends some 150 microseconds of CPU per request even when no span is
recorded, which on the intake path was a fifth of the gateway's whole cost. Here a request whose
span is not recorded pays for its ids and little else; request attributes are collected only
for a recorded span, with the library's own helpers.

A path or a query can hold anything a caller put there, a member id included. So the concrete
path and the query are masked before the span starts, and once the router has matched, the
span is named and labelled by the route template instead (`POST /v1/cases/{case_id}/cancel`).
Request headers are never captured, and should an operator capture some through the standard
environment variables, credential headers are masked.

One duration histogram by method, route and status, recorded here, tells operations what they
need for one measurement per request (the instrumentation's own HTTP metrics were five).
"""

from __future__ import annotations

import os
import re
import time
from functools import lru_cache
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.middleware.base import AbstractMiddleware
from litestar.plugins.opentelemetry import OpenTelemetryInstrumentationMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation._semconv import (
    _OpenTelemetrySemanticConventionStability as Semconv,
)
from opentelemetry.instrumentation._semconv import (
    _OpenTelemetryStabilitySignalType as SignalType,
)
from opentelemetry.instrumentation._semconv import _StabilityMode
from opentelemetry.instrumentation.asgi import (
    collect_custom_headers_attributes,
    collect_request_attributes,
    set_status_code,
)
from opentelemetry.trace import Span, SpanKind
from opentelemetry.util.http import (
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST,
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE,
    SanitizeValue,
    get_custom_headers,
    normalise_request_header_name,
    normalise_response_header_name,
)

from gateway.logs import RequestContext, request_context
from gateway.metrics import GatewayMetrics
from gateway.redaction import REDACTED
from gateway.telemetry import CASE_ID, record_failure

REQUEST_ID_HEADER = "x-request-id"
# Header values masked should they ever be captured (OTEL_INSTRUMENTATION_HTTP_CAPTURE_...).
CREDENTIAL_HEADERS = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "idempotency-key",
    ".*token.*",
    ".*secret.*",
    ".*api-?key.*",
]
# Liveness probes arrive every few seconds and would bury the requests that matter.
UNTRACED_PATHS = [r"^/health(?:/|$)"]
_PATH_KEYS = ("http.target", "url.path")
_URL_KEYS = ("http.url", "url.full")
_PARAMETER_TYPE = re.compile(r"\{(\w+):[^}]*\}")
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "(unmatched)"
_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate"})


def _method(scope: Scope) -> str:
    """The request method, or `_OTHER`: a caller may send any token as a method."""
    method = scope.get("method", "")
    return method if method in _METHODS else "_OTHER"


@lru_cache(maxsize=256)
def _route(path_template: str) -> str:
    return _PARAMETER_TYPE.sub(r"{\1}", path_template)


def _without_path(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].split('?', 1)[0]}"


def _masked(attributes: dict[str, Any]) -> dict[str, Any]:
    """The request attributes with the concrete path and the query taken out."""
    for key in _PATH_KEYS:
        if key in attributes:
            attributes[key] = REDACTED
    for key in _URL_KEYS:
        value = attributes.get(key)
        if isinstance(value, str):
            attributes[key] = _without_path(value)
    if attributes.get("url.query"):
        attributes["url.query"] = REDACTED
    return attributes


def _route_of(scope: Scope) -> str | None:
    template = scope.get("path_template")
    return _route(template) if isinstance(template, str) else None


def _name_by_route(span: Span, scope: Scope, route: str, attributes: dict[str, Any]) -> None:
    span.update_name(f"{_method(scope)} {route}")
    span.set_attribute("http.route", route)
    for key in _PATH_KEYS:
        if key in attributes:
            span.set_attribute(key, route)
    for key in _URL_KEYS:
        value = attributes.get(key)
        if isinstance(value, str):
            span.set_attribute(key, value + route)
    case_id = (scope.get("path_params") or {}).get("case_id")
    if isinstance(case_id, str) and _ULID.match(case_id):
        span.set_attribute(CASE_ID, case_id)


def _semconv_mode() -> _StabilityMode:
    """The HTTP semantic conventions in force (OTEL_SEMCONV_STABILITY_OPT_IN), read the way
    every OpenTelemetry instrumentation reads them, so the attributes are the library's."""
    Semconv._initialize()  # type: ignore[no-untyped-call]
    return Semconv._get_opentelemetry_stability_opt_in_mode(SignalType.HTTP)


def _caller_context(scope: Scope) -> context.Context | None:
    """The caller's trace context, read from the two W3C headers alone (the only propagator
    installed, see gateway.telemetry)."""
    carrier = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in scope["headers"]
        if name in _TRACE_HEADERS
    }
    return propagate.extract(carrier) if carrier else None


class ServerSpans(OpenTelemetryInstrumentationMiddleware):
    """The server span, the request id, the route name, the masked target, the duration.

    It subclasses Litestar's OpenTelemetry middleware only for where Litestar puts it: lifted
    out of the middleware list and wrapped around the whole app (routing and exception handling
    included), so that 404s and auth failures get their span too. Nothing else of the parent is
    used. Paths in `exclude` get no span and no request id.
    """

    def __init__(self, app: ASGIApp, *, metrics: GatewayMetrics, exclude: list[str]) -> None:
        AbstractMiddleware.__init__(self, app, exclude=exclude)  # not the library middleware
        self._metrics = metrics
        self._tracer = trace.get_tracer(__name__)
        self._semconv = _semconv_mode()
        self._capture_request = get_custom_headers(
            OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST
        )
        self._capture_response = get_custom_headers(
            OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE
        )
        self._sanitize = SanitizeValue(CREDENTIAL_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        if trace.get_current_span() is trace.INVALID_SPAN:
            parent, kind = _caller_context(scope), SpanKind.SERVER
        else:  # served inside another span (an in-process client): nested, as the library does
            parent, kind = context.get_current(), SpanKind.INTERNAL
        span = self._tracer.start_span(_method(scope), context=parent, kind=kind)
        span_token = context.attach(trace.set_span_in_context(span, parent))
        recording = span.is_recording()
        attributes: dict[str, Any] = {}
        if recording:
            attributes = self._request_attributes(scope)
            span.set_attributes(attributes)
            if kind is SpanKind.SERVER and self._capture_request:
                span.set_attributes(self._headers(scope, self._capture_request, request=True))
        request_id = os.urandom(8).hex()
        header = (REQUEST_ID_HEADER.encode(), request_id.encode())
        context_token = request_context.set(RequestContext(request_id, scope))
        status = 0

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
                if recording:
                    route = _route_of(scope)
                    if route is not None:
                        _name_by_route(span, scope, route, attributes)
                    if kind is SpanKind.SERVER and self._capture_response:
                        span.set_attributes(
                            self._headers(message, self._capture_response, request=False)
                        )
                    self._set_status(span, status)
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception as exc:
            if recording:
                record_failure(span, exc)
            raise
        finally:
            request_context.reset(context_token)
            context.detach(span_token)
            span.end()
            if status:
                self._metrics.http_request(
                    _method(scope),
                    _route_of(scope) or UNMATCHED_ROUTE,
                    status,
                    time.perf_counter() - started,
                )

    def _request_attributes(self, scope: Scope) -> dict[str, Any]:
        collected = collect_request_attributes(scope, self._semconv)  # type: ignore[no-untyped-call]
        return _masked(collected)

    def _set_status(self, span: Span, status: int) -> None:
        set_status_code(span, status, None, self._semconv)  # type: ignore[no-untyped-call]

    def _headers(self, carrier: Any, patterns: list[str], *, request: bool) -> dict[str, Any]:
        normalise = normalise_request_header_name if request else normalise_response_header_name
        return dict(collect_custom_headers_attributes(carrier, self._sanitize, patterns, normalise))


def request_tracing(metrics: GatewayMetrics) -> DefineMiddleware:
    """The middleware to list in the app's `middleware` (see `ServerSpans` for where it goes)."""
    return DefineMiddleware(ServerSpans, metrics=metrics, exclude=UNTRACED_PATHS)
