"""The PHI and secret rules, and the log chain that applies them to every line."""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal

import pytest
import structlog
import uvicorn
from opentelemetry import trace

from gateway.logs import (
    RequestContext,
    add_request_context,
    adopt_server_loggers,
    configure_logging,
    request_context,
    summarize_exception,
)
from gateway.redaction import REDACTED, is_sensitive_key, scrub_mapping, scrub_text
from gateway.telemetry import configure_tracing


@pytest.mark.parametrize(
    "key",
    [
        "name",
        "patient",
        "patientName",
        "first_name",
        "given",
        "family",
        "birth_date",
        "birthDate",
        "dob",
        "member_id",
        "memberId",
        "mrn",
        "ssn",
        "address",
        "phone",
        "email",
        "notes",
        "appeal_reason_text",
        "payload",
        "raw_body",
        "access_token",
        "client_secret",
        "password",
        "Authorization",
        "http.request.header.cookie",
        "api_key",
        "private_key",
        "idempotency_key",
        "DATABASE_URL",
        "dsn",
    ],
)
def test_phi_and_secret_fields_are_known_by_name(key: str) -> None:
    assert is_sensitive_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "event",
        "case_id",
        "client_id",
        "job_id",
        "connector_name",
        "reason",
        "error_type",
        "trace_id",
        "patient_hash",
        "token_sha256",
        "token_jti",
        "content_type",
        "status",
        "payer_id",
        "http.route",
    ],
)
def test_ids_hashes_and_outcomes_pass(key: str) -> None:
    assert not is_sensitive_key(key)


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (
            "cannot connect to postgresql+asyncpg://casegate:hunter2@db:5432/cases",
            "postgresql+asyncpg://casegate:",
            "hunter2",
        ),
        ("sent Authorization: Bearer abc.DEF-123_x~", "Bearer", "abc.DEF-123_x~"),
        ("basic auth Basic Y2FzZWdhdGU6czNjcmV0", "Basic", "Y2FzZWdhdGU6czNjcmV0"),
        ("jwt eyJhbGciOiJSUzM4NCJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl", "jwt", "eyJhbGci"),
        ("host=db password=hunter2 user=x", "password=", "hunter2"),
        ("/token?access_token=abcdef&x=1", "access_token=", "abcdef"),
        ("call (555) 123-4567 today", "call", "123-4567"),
        ("or 555.123.4567", "or", "555.123.4567"),
        ("ssn 123-45-6789 on file", "on file", "123-45-6789"),
        ("mail avery.testpatient@example.org", "mail", "avery.testpatient"),
        (
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
            "",
            "MIIEvQIBADANBg",
        ),
    ],
)
def test_secrets_and_shaped_identifiers_are_cut_out_of_text(
    text: str, kept: str, gone: str
) -> None:
    scrubbed = scrub_text(text)
    assert gone not in scrubbed
    assert kept in scrubbed
    assert REDACTED in scrubbed


def test_dates_ids_and_codes_in_text_survive() -> None:
    text = "case 01JABCDEF0123456789ABCDEFG due 2026-12-14 code M17.11 npi 1260181593"
    assert scrub_text(text) == text


def test_nested_fields_bytes_and_unknown_objects() -> None:
    class Model:
        def __str__(self) -> str:
            return "Avery Testpatient"

    fields = {
        "event": "x",
        "context": {"patient": {"given": "Avery"}, "count": 2, "items": [{"mrn": "M1"}]},
        "wire": b"MSH|^~\\&|...PID|||M1||Testpatient^Avery",
        "obj": Model(),
        "when": date(2026, 1, 2),
        "amount": Decimal("12.50"),
        "flag": True,
        "nothing": None,
        "name": None,
    }
    assert scrub_mapping(fields) == {
        "event": "x",
        "context": {"patient": REDACTED, "count": 2, "items": [{"mrn": REDACTED}]},
        "wire": REDACTED,
        "obj": "<Model>",
        "when": "2026-01-02",
        "amount": "12.50",
        "flag": True,
        "nothing": None,
        "name": None,
    }


def test_an_exception_is_logged_by_type_and_stack_never_by_message() -> None:
    try:
        try:
            raise KeyError("member W123456789")
        except KeyError as inner:
            raise ValueError("patient Avery Testpatient born 1961-04-12") from inner
    except ValueError as exc:
        event = summarize_exception(None, "error", {"event": "failed", "exc_info": exc})
    assert event["error_type"] == "ValueError"
    assert event["error_causes"] == ["KeyError"]
    assert any("test_redaction.py" in frame for frame in event["stack"])
    assert "Avery" not in json.dumps(event)
    assert "W123456789" not in json.dumps(event)
    assert "exc_info" not in event


def test_request_and_trace_context_are_added_when_known() -> None:
    configure_tracing()
    scope = {
        "type": "http",
        "user": type("P", (), {"client_id": "app-1"})(),
        "path_params": {"case_id": "01JABCDEF0123456789ABCDEFG"},
    }
    token = request_context.set(RequestContext("r-1", scope))  # type: ignore[arg-type]
    try:
        with trace.get_tracer("t").start_as_current_span("s") as span:
            event = add_request_context(None, "info", {"event": "e"})
    finally:
        request_context.reset(token)
    assert event["request_id"] == "r-1"
    assert event["client_id"] == "app-1"
    assert event["case_id"] == "01JABCDEF0123456789ABCDEFG"
    assert event["trace_id"] == format(span.get_span_context().trace_id, "032x")


def test_a_case_id_is_taken_from_the_route_only_if_it_looks_like_one() -> None:
    scope = {"type": "http", "path_params": {"case_id": "AveryTestpatient"}}
    token = request_context.set(RequestContext("r-2", scope))  # type: ignore[arg-type]
    try:
        event = add_request_context(None, "info", {"event": "e"})
    finally:
        request_context.reset(token)
    assert "case_id" not in event


def test_every_logger_writes_one_redacted_json_object_per_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging()
    structlog.get_logger("casegate.test").info(
        "case_seen", case_id="01JABCDEF0123456789ABCDEFG", member_id="W123456789", notes="hi"
    )
    logging.getLogger("some.library").warning(
        "connect failed for %s", "postgresql://u:hunter2@db/x"
    )
    try:
        raise RuntimeError("Avery Testpatient")
    except RuntimeError:
        structlog.get_logger("casegate.test").exception("job_failed")
    lines = capsys.readouterr().out.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["event"] for e in events] == [
        "case_seen",
        "connect failed for postgresql://u:[redacted]@db/x",
        "job_failed",
    ]
    assert events[0]["member_id"] == REDACTED
    assert events[0]["notes"] == REDACTED
    assert events[0]["case_id"] == "01JABCDEF0123456789ABCDEFG"
    assert events[1]["logger"] == "some.library"
    assert events[1]["level"] == "warning"
    assert events[2]["error_type"] == "RuntimeError"
    assert "Avery" not in "\n".join(lines)
    assert "hunter2" not in "\n".join(lines)


def test_the_servers_own_error_lines_go_through_the_same_chain(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging()
    uvicorn.Config(app=None, log_level="info")  # installs uvicorn's plain-text handlers
    adopt_server_loggers()
    try:
        raise ValueError("member W123456789")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    [line] = capsys.readouterr().out.splitlines()
    event = json.loads(line)
    assert event["event"] == "Exception in ASGI application"
    assert event["error_type"] == "ValueError"
    assert "W123456789" not in line
