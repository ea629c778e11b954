"""Every error of the FHIR endpoints as one OperationOutcome (PAS spec-35), never a problem
document: an EHR speaking PAS reads `issue.expression` to find the element at fault.

Auth refusals, oversized bodies and unexpected failures raised anywhere under `/fhir` are
rendered here too, so a FHIR client never meets a second error format. Diagnostics are fixed
phrases or located messages; they never repeat a submitted value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap

from gateway.problems import Problem
from mappings.fhir_pas.errors import Issue, PasMappingError

FHIR_JSON = "application/fhir+json"
_log = structlog.get_logger("casegate.fhir")
# The parse and model failures: the body is not a FHIR R4 Bundle at all (400). Everything
# else a PAS bundle breaks is a profile or business rule (422).
_NOT_FHIR = frozenset(
    {"not JSON", "not a Bundle", "not a valid FHIR R4 Bundle", "unknown resource types"}
)
# HTTP statuses as OperationOutcome issue types.
_ISSUE_CODES = {
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    413: "too-costly",
    415: "not-supported",
    429: "throttled",
    503: "transient",
}


class FhirError(Exception):
    """Raise in a FHIR handler to answer with an OperationOutcome."""

    def __init__(
        self, status: int, issues: Sequence[Issue], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status}: {len(issues)} issue(s)")
        self.status = status
        self.issues = list(issues)
        self.headers = headers or {}

    @classmethod
    def refused(cls, exc: PasMappingError) -> FhirError:
        return cls(400 if exc.summary in _NOT_FHIR else 422, exc.issues)

    def summary(self) -> str:
        """One line for the message store: where and what."""
        return "; ".join(f"{i.expression}: {i.diagnostics}" for i in self.issues)[:2000]

    def to_response(self) -> Response[bytes]:
        if self.status >= 500:
            # PAS spec-39: a 5xx carries no OperationOutcome; the client may retry.
            return Response(content=b"", status_code=self.status, headers=self.headers)
        return fhir_response(operation_outcome(self.issues), self.status, self.headers)


def operation_outcome(issues: Sequence[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [i.to_json() for i in issues]}


def fhir_response(
    document: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return Response(
        content=json.dumps(document, separators=(",", ":")).encode(),
        status_code=status,
        media_type=FHIR_JSON,
        headers=headers or {},
    )


def _fhir_error(_: Request[Any, Any, Any], exc: FhirError) -> Response[bytes]:
    return exc.to_response()


def _problem(_: Request[Any, Any, Any], exc: Problem) -> Response[bytes]:
    """Auth and other gateway refusals, their headers (WWW-Authenticate, Retry-After) kept."""
    code = _ISSUE_CODES.get(exc.status, "processing")
    text = exc.detail or exc.title
    return FhirError(exc.status, [Issue("Bundle", text, code)], exc.headers).to_response()


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    code = _ISSUE_CODES.get(exc.status_code, "processing")
    text = "the bundle is larger than this server accepts" if exc.status_code == 413 else None
    issue = Issue("Bundle", text or "the request was refused", code)
    return FhirError(exc.status_code, [issue], dict(exc.headers or {})).to_response()


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """A bug, not bad input: the type and path are logged, never the message (PHI)."""
    _log.error("unhandled_error", error_type=type(exc).__name__, path=request.url.path)
    issue = Issue("Bundle", "the server failed to process the request", "exception", "fatal")
    return FhirError(500, [issue]).to_response()


FHIR_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    FhirError: _fhir_error,
    Problem: _problem,
    HTTPException: _http_error,
    Exception: _unexpected,
}
