"""A server span for every API request (Litestar's OpenTelemetry middleware over the ASGI
instrumentation), a request id for every response, and nothing a caller typed in either.

The ASGI instrumentation names a span after the raw path and records the full URL with its
query string; a path or a query can hold anything a caller put there, a member id included.
So the concrete path and the query are masked as soon as the span starts, and once the router
has matched, the span is named and labelled by the route template instead
(`POST /v1/cases/{case_id}/cancel`). Request headers are never captured, and should an operator
capture some through the standard environment variables, credential headers are masked.

The instrumentation's own HTTP metrics (five measurements per request) are switched off: one
duration histogram by method, route and status, recorded here, tells operations what they need
for one measurement on the intake path instead of five.
"""

from __future__ import annotations

import os
import re
import time
from functools import lru_cache
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.plugins.opentelemetry import (
    OpenTelemetryConfig,
    OpenTelemetryInstrumentationMiddleware,
)
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import Span

from gateway.logs import RequestContext, request_context
from gateway.metrics import GatewayMetrics
from gateway.redaction import REDACTED
from gateway.telemetry import CASE_ID

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


def _method(scope: Scope) -> str:
    """The request method, or `_OTHER`: a caller may send any token as a method."""
    method = scope.get("method", "")
    return method if method in _METHODS else "_OTHER"


def _method_only(scope: Scope) -> tuple[str, dict[str, Any]]:
    """The span's first name: the method alone, until the route is known."""
    return _method(scope), {}


@lru_cache(maxsize=256)
def _route(path_template: str) -> str:
    return _PARAMETER_TYPE.sub(r"{\1}", path_template)


def _without_path(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].split('?', 1)[0]}"


def _mask_request_target(span: Span) -> None:
    attributes = getattr(span, "attributes", None) or {}
    for key in _PATH_KEYS:
        if key in attributes:
            span.set_attribute(key, REDACTED)
    for key in _URL_KEYS:
        value = attributes.get(key)
        if isinstance(value, str):
            span.set_attribute(key, _without_path(value))
    if attributes.get("url.query"):
        span.set_attribute("url.query", REDACTED)


def _route_of(scope: Scope) -> str | None:
    template = scope.get("path_template")
    return _route(template) if isinstance(template, str) else None


def _name_by_route(span: Span, scope: Scope, route: str) -> None:
    span.update_name(f"{_method(scope)} {route}")
    span.set_attribute("http.route", route)
    attributes = getattr(span, "attributes", None) or {}
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


class _RequestScope:
    """Inside the server span: the request id, the route name, the masked target, the duration."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        span = trace.get_current_span()
        recording = span.is_recording()
        if recording:
            _mask_request_target(span)
        request_id = os.urandom(8).hex()
        header = (REQUEST_ID_HEADER.encode(), request_id.encode())
        token = request_context.set(RequestContext(request_id, scope))
        status = 0

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
                route = _route_of(scope)
                if recording and route is not None:
                    _name_by_route(span, scope, route)
            await send(message)

        try:
            await self._app(scope, receive, send_with_request_id)
        finally:
            request_context.reset(token)
            if status:
                self._metrics.http_request(
                    _method(scope),
                    _route_of(scope) or UNMATCHED_ROUTE,
                    status,
                    time.perf_counter() - started,
                )


class _TracedRequests(OpenTelemetryInstrumentationMiddleware):
    def __init__(self, app: ASGIApp, config: OpenTelemetryConfig, metrics: GatewayMetrics) -> None:
        super().__init__(app=_RequestScope(app, metrics), config=config)
        self.app = app  # what untraced paths get: no span, no request id


def request_tracing(metrics: GatewayMetrics) -> DefineMiddleware:
    """The middleware to list in the app's `middleware`.

    Litestar lifts it out of the list and wraps it around the whole app (routing and exception
    handling included), so that 404s and auth failures get their span too.
    """
    config = OpenTelemetryConfig(
        meter_provider=NoOpMeterProvider(),
        scope_span_details_extractor=_method_only,
        exclude=UNTRACED_PATHS,
        exclude_spans=["receive", "send"],
        http_capture_headers_sanitize_fields=CREDENTIAL_HEADERS,
    )
    return DefineMiddleware(_TracedRequests, config=config, metrics=metrics)
