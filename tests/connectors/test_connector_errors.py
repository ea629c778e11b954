"""The outcome -> error table every HTTP connector shares, and the errors themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from pydantic import BaseModel, Field, ValidationError

from connectors.errors import (
    AuthError,
    ConnectorError,
    PermanentError,
    ProtocolError,
    TransientError,
    located_problems,
)
from connectors.http import error_for_status, error_for_transport, parse_retry_after

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, None),
        (201, None),
        (204, None),
        (408, TransientError),
        (425, TransientError),
        (429, TransientError),
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (504, TransientError),
        (507, TransientError),
        (401, AuthError),
        (403, AuthError),
        (400, PermanentError),
        (404, PermanentError),
        (409, PermanentError),
        (422, PermanentError),
        (501, PermanentError),
        (505, PermanentError),
        (101, ProtocolError),
        (302, ProtocolError),
        (304, ProtocolError),
    ],
)
def test_status_table(status: int, expected: type[ConnectorError] | None) -> None:
    error = error_for_status(status)
    if expected is None:
        assert error is None
    else:
        assert type(error) is expected
        assert error is not None and f"HTTP {status}" in error.reason


def test_transient_status_carries_retry_after_and_wire_bytes() -> None:
    error = error_for_status(429, "17", wire_request=b"req", wire_response=b"resp")
    assert isinstance(error, TransientError)
    assert error.retry_after == 17.0
    assert (error.wire_request, error.wire_response) == (b"req", b"resp")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("0", 0.0),
        ("120", 120.0),
        (" 5 ", 5.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),
        ("Fri, 20 Nov 2026 12:01:00 GMT", 60.0),
        ("-5", None),
        ("1.5", None),
        ("\uff11\uff12", None),  # full-width digits are not delay-seconds
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == expected


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectTimeout("t"), TransientError),
        (httpx.ReadTimeout("t"), TransientError),
        (httpx.PoolTimeout("t"), TransientError),
        (httpx.ConnectError("c"), TransientError),
        (httpx.ReadError("r"), TransientError),
        (httpx.RemoteProtocolError("r"), TransientError),
        (httpx.DecodingError("d"), ProtocolError),
        (httpx.TooManyRedirects("r"), PermanentError),
    ],
)
def test_transport_failures(exc: httpx.HTTPError, expected: type[ConnectorError]) -> None:
    assert type(error_for_transport(exc, wire_request=b"x")) is expected


async def test_a_refused_connection_is_transient(unused_port: int) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.HTTPError) as caught:
            await client.get(f"http://127.0.0.1:{unused_port}/")
    assert isinstance(error_for_transport(caught.value), TransientError)


def test_error_text_is_the_reason_only() -> None:
    error = PermanentError("HTTP 400: request refused", wire_request=b"Jane", wire_response=b"Doe")
    assert str(error) == "HTTP 400: request refused"
    assert repr(error) == "PermanentError('HTTP 400: request refused')"
    assert "Jane" not in repr(error) and "Doe" not in str(error)
    assert repr(TransientError("x", 3.0)) == "TransientError('x', retry_after=3.0)"


def test_an_overlong_reason_is_cut() -> None:
    assert len(ProtocolError("x" * 5000).reason) == 200


class _Sample(BaseModel):
    name: str = Field(max_length=3)
    count: int


def test_located_problems_name_paths_not_values() -> None:
    with pytest.raises(ValidationError) as caught:
        _Sample.model_validate({"name": "Zq-Jane-Doe", "count": "many", "extra": 1})
    problems = located_problems(caught.value)
    assert set(problems) == {"name", "count"}
    assert "Zq-Jane-Doe" not in str(problems) and "many" not in str(problems)
