"""The base of HTTP connectors: one place that turns HTTP outcomes into connector errors.

Every HTTP connector would otherwise grow its own idea of which statuses are worth a retry;
keeping the table here means a 429 is retried the same way whichever payer sent it. Bodies are
read with a size cap because an upstream's answer is untrusted input too.
"""

from __future__ import annotations

import json
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, FilePath, model_validator

from connectors.contract import ConnectorRequest
from connectors.errors import (
    AuthError,
    ConnectorError,
    PermanentError,
    ProtocolError,
    TransientError,
)

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
AUTH_STATUSES = frozenset({401, 403})
# Server errors that say the far side will never handle this request, however often it comes.
PERMANENT_SERVER_STATUSES = frozenset({501, 505})
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_DELAY_SECONDS = re.compile(r"^[0-9]+$")
# Headers the connector owns; a caller's copy (say, a forwarded Authorization) is dropped.
_RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "host",
        "connection",
        "content-length",
        "content-type",
        "transfer-encoding",
        "idempotency-key",
    }
)


def _endpoint_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise ValueError("must use https (plain http is allowed on loopback only)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials; use the auth settings")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return value.rstrip("/")


EndpointUrl = Annotated[str, AfterValidator(_endpoint_url)]
"""An https URL (http on loopback, for sandboxes), without credentials in it."""


class TlsConfig(BaseModel):
    """Trust anchors and an optional client certificate (mutual TLS) for one far side."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ca_file: FilePath | None = None
    client_cert: FilePath | None = None
    client_key: FilePath | None = None

    @model_validator(mode="after")
    def _cert_with_key(self) -> Self:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key go together")
        return self

    def ssl_context(self) -> ssl.SSLContext | bool:
        """`True` (the HTTP client's default trust) when nothing is configured."""
        if self.ca_file is None and self.client_cert is None:
            return True
        context = ssl.create_default_context(
            cafile=str(self.ca_file) if self.ca_file is not None else None
        )
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.client_cert is not None and self.client_key is not None:
            try:
                context.load_cert_chain(str(self.client_cert), str(self.client_key))
            except (ssl.SSLError, OSError):
                raise ValueError(
                    "tls: client_cert and client_key cannot be loaded as a certificate chain"
                ) from None
        return context


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait, from delay-seconds or an HTTP-date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if _DELAY_SECONDS.match(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_for_status(
    status: int,
    retry_after: str | None = None,
    *,
    wire_request: bytes = b"",
    wire_response: bytes = b"",
) -> ConnectorError | None:
    """The error a non-2xx status means, or None for success."""
    if 200 <= status < 300:
        return None
    wire = {"wire_request": wire_request, "wire_response": wire_response}
    if status in TRANSIENT_STATUSES:
        return TransientError(f"HTTP {status}: retry later", parse_retry_after(retry_after), **wire)
    if status in AUTH_STATUSES:
        return AuthError(f"HTTP {status}: credentials refused", **wire)
    if 400 <= status < 500 or status in PERMANENT_SERVER_STATUSES:
        return PermanentError(f"HTTP {status}: request refused", **wire)
    if 500 <= status < 600:
        return TransientError(f"HTTP {status}: retry later", parse_retry_after(retry_after), **wire)
    return ProtocolError(f"HTTP {status}: unexpected status", **wire)


def error_for_transport(exc: httpx.HTTPError, *, wire_request: bytes = b"") -> ConnectorError:
    """The error a failed exchange (no usable HTTP status) means."""
    if isinstance(exc, httpx.TimeoutException):
        return TransientError("timed out waiting for the far side", wire_request=wire_request)
    if isinstance(exc, httpx.DecodingError):
        return ProtocolError("response body could not be decoded", wire_request=wire_request)
    if isinstance(exc, httpx.TransportError):
        return TransientError(f"connection failed: {type(exc).__name__}", wire_request=wire_request)
    return PermanentError(f"request could not be made: {type(exc).__name__}")


def outbound_headers(request: ConnectorRequest | None, *, json_body: bool) -> dict[str, str]:
    """The caller's context headers (traceparent), then the ones the connector owns."""
    headers: dict[str, str] = {}
    if request is not None:
        headers.update(
            (k, v) for k, v in request.headers.items() if k.lower() not in _RESERVED_HEADERS
        )
        headers["Idempotency-Key"] = request.idempotency_key
    headers["Accept"] = "application/json"
    if json_body:
        headers["Content-Type"] = "application/json"
    return headers


@dataclass(frozen=True)
class HttpExchange:
    """A successful (2xx) exchange, with the exact bytes both ways."""

    status: int
    wire_request: bytes
    wire_response: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.wire_response)
        except (ValueError, UnicodeDecodeError):
            raise ProtocolError(
                "response body is not JSON",
                wire_request=self.wire_request,
                wire_response=self.wire_response,
            ) from None


class HttpConnector:
    """Owns one pooled HTTP client for one far side and raises only connector errors."""

    def __init__(
        self,
        *,
        base_url: str,
        timeout_seconds: float,
        auth: httpx.Auth | None = None,
        tls: TlsConfig | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self._max_response_bytes = max_response_bytes
        self._closed = False
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_seconds),
            auth=auth,
            verify=(tls or TlsConfig()).ssl_context(),
            # A redirect would carry the bearer token wherever the far side points it.
            follow_redirects=False,
        )

    async def exchange(
        self,
        method: str,
        path: str,
        request: ConnectorRequest | None,
        body: bytes | None = None,
        *,
        media_type: str | None = None,
    ) -> HttpExchange:
        """One exchange; `request` is None only for probes (`check()`) that carry no case.

        `media_type` replaces JSON as the body's Content-Type and the Accept header.
        """
        wire_request = body if body is not None else f"{method} {path}".encode()
        headers = outbound_headers(request, json_body=body is not None and media_type is None)
        if media_type is not None:
            headers["Content-Type"] = media_type
            headers["Accept"] = media_type.split(";")[0]
        try:
            http_request = self._client.build_request(method, path, content=body, headers=headers)
            response = await self._client.send(http_request, stream=True)
            try:
                wire_response = await self._read_capped(response, wire_request)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise error_for_transport(exc, wire_request=wire_request) from exc
        error = error_for_status(
            response.status_code,
            response.headers.get("Retry-After"),
            wire_request=wire_request,
            wire_response=wire_response,
        )
        if error is not None:
            raise error
        return HttpExchange(response.status_code, wire_request, wire_response)

    async def _read_capped(self, response: httpx.Response, wire_request: bytes) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_response_bytes:
                raise ProtocolError(
                    f"response body exceeds {self._max_response_bytes} bytes",
                    wire_request=wire_request,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._client.aclose()
