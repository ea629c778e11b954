"""HttpConnector against a real loopback server: headers sent, outcomes classified, caps held."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, Request, Response, get, route
from litestar.params import FromPath
from pydantic import TypeAdapter, ValidationError

from connectors.contract import ConnectorRequest
from connectors.errors import PermanentError, ProtocolError, TransientError
from connectors.http import EndpointUrl, HttpConnector, TlsConfig
from connectors.loopback import LoopbackServer

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@route("/echo", http_method=["GET", "POST"])
async def echo(request: Request[Any, Any, Any]) -> Response[bytes]:
    body = {"headers": dict(request.headers), "body": (await request.body()).decode()}
    return Response(json.dumps(body).encode(), media_type="application/json")


@get("/status/{code:int}")
async def status(code: FromPath[int]) -> Response[bytes]:
    headers = {"Retry-After": "7"} if code in (429, 503) else {}
    if code == 302:
        headers = {"Location": "http://127.0.0.1:1/elsewhere"}
    return Response(b'{"error": "Zq-echoed-name"}', status_code=code, headers=headers)


@get("/big")
async def big() -> Response[bytes]:
    return Response(b"x" * 200_000, media_type="application/octet-stream")


@get("/text")
async def text() -> Response[bytes]:
    return Response(b"<html>Zq-echoed-name</html>", media_type="text/html")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = Litestar([echo, status, big, text], openapi_config=None, logging_config=None)
    running = LoopbackServer(app)
    yield running.start()
    running.stop()


def _request(**headers: str) -> ConnectorRequest:
    return ConnectorRequest(
        operation="prior_auth.submit",
        idempotency_key="case-7:submit:1",
        case_id="case-7",
        case_type="prior_authorization",
        payload={},
        headers=headers,
    )


async def test_context_headers_and_idempotency_key_are_sent(server: str) -> None:
    http = HttpConnector(base_url=server, timeout_seconds=5)
    request = _request(traceparent=TRACEPARENT, Authorization="Bearer forwarded", Cookie="c=1")
    exchange = await http.exchange("POST", "/echo", request, b'{"a": 1}')
    await http.aclose()
    seen = exchange.json()
    assert seen["headers"]["traceparent"] == TRACEPARENT
    assert seen["headers"]["idempotency-key"] == "case-7:submit:1"
    assert seen["headers"]["content-type"] == "application/json"
    assert "authorization" not in seen["headers"] and "cookie" not in seen["headers"]
    assert seen["body"] == '{"a": 1}'
    assert exchange.wire_request == b'{"a": 1}'


async def test_a_probe_carries_no_idempotency_key(server: str) -> None:
    http = HttpConnector(base_url=server, timeout_seconds=5)
    exchange = await http.exchange("GET", "/echo", None)
    await http.aclose()
    assert "idempotency-key" not in exchange.json()["headers"]
    assert exchange.wire_request == b"GET /echo"


@pytest.mark.parametrize(
    ("code", "error", "retry_after"),
    [(503, TransientError, 7.0), (429, TransientError, 7.0), (404, PermanentError, None)],
)
async def test_statuses_become_errors_with_wire_bytes_kept_aside(
    server: str, code: int, error: type[Exception], retry_after: float | None
) -> None:
    http = HttpConnector(base_url=server, timeout_seconds=5)
    with pytest.raises(error) as caught:
        await http.exchange("GET", f"/status/{code}", _request())
    await http.aclose()
    assert getattr(caught.value, "retry_after", None) == retry_after
    assert caught.value.wire_response == b'{"error": "Zq-echoed-name"}'  # type: ignore[attr-defined]
    assert "Zq-echoed-name" not in str(caught.value)


async def test_redirects_are_not_followed(server: str) -> None:
    http = HttpConnector(base_url=server, timeout_seconds=5)
    with pytest.raises(ProtocolError, match="HTTP 302"):
        await http.exchange("GET", "/status/302", _request())
    await http.aclose()


async def test_response_size_is_capped(server: str) -> None:
    capped = HttpConnector(base_url=server, timeout_seconds=5, max_response_bytes=100_000)
    with pytest.raises(ProtocolError, match="exceeds 100000 bytes"):
        await capped.exchange("GET", "/big", _request())
    await capped.aclose()
    default = HttpConnector(base_url=server, timeout_seconds=5)
    assert len((await default.exchange("GET", "/big", _request())).wire_response) == 200_000
    await default.aclose()


async def test_a_body_that_is_not_json_is_a_protocol_error(server: str) -> None:
    http = HttpConnector(base_url=server, timeout_seconds=5)
    exchange = await http.exchange("GET", "/text", _request())
    await http.aclose()
    with pytest.raises(ProtocolError) as caught:
        exchange.json()
    assert caught.value.wire_response == b"<html>Zq-echoed-name</html>"
    assert "Zq-echoed-name" not in str(caught.value)


async def test_nobody_listening_is_transient(unused_port: int) -> None:
    http = HttpConnector(base_url=f"http://127.0.0.1:{unused_port}", timeout_seconds=2)
    with pytest.raises(TransientError, match="connection failed"):
        await http.exchange("GET", "/echo", _request())
    await http.aclose()
    await http.aclose()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://payer.example.com", "https"),
        ("ftp://127.0.0.1", "http(s)"),
        ("https://user:pw@payer.example.com", "credentials"),
        ("https://payer.example.com/api?key=1", "query"),
        ("payer.example.com", "absolute"),
    ],
)
def test_endpoint_urls_must_be_https_and_plain(url: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        TypeAdapter(EndpointUrl).validate_python(url)


@pytest.mark.parametrize(
    "url", ["https://payer.example.com/api/", "http://127.0.0.1:8080", "http://localhost"]
)
def test_endpoint_urls_accepted(url: str) -> None:
    assert TypeAdapter(EndpointUrl).validate_python(url) == url.rstrip("/")


def test_client_cert_needs_its_key(tmp_path: Path) -> None:
    cert = tmp_path / "client.pem"
    cert.write_text("not really a certificate")
    with pytest.raises(ValidationError, match="client_cert and client_key go together"):
        TlsConfig(client_cert=cert)
    with pytest.raises(ValueError, match="cannot be loaded"):
        TlsConfig(client_cert=cert, client_key=cert).ssl_context()
    assert TlsConfig().ssl_context() is True
