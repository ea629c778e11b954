"""RFC 9457 problem details: the one error shape every HTTP answer of casegate uses, from the
case API and the auth layer alike.

Domain errors become HTTP codes only here, at the edge. Details name fields by JSON pointer and
say what is wrong; they never repeat the submitted value, which may be PHI.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap
from pydantic import ValidationError

from mappings.pointers import json_pointer, located

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:casegate:problem:"
_log = structlog.get_logger("casegate.api")


@dataclass(frozen=True)
class FieldError:
    """A bad body field (JSON pointer into the body) or a bad query/path/header parameter."""

    pointer: str | None
    detail: str
    parameter: str | None = None

    def as_dict(self) -> dict[str, str]:
        where = {"pointer": self.pointer} if self.pointer is not None else {}
        if self.parameter is not None:
            where["parameter"] = self.parameter
        return {**where, "detail": self.detail}


@dataclass
class Problem(Exception):
    """Raise anywhere in a handler to answer with a problem document."""

    status: int
    title: str
    detail: str | None = None
    slug: str = "about:blank"
    errors: Sequence[FieldError] = field(default_factory=tuple)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": self.slug if self.slug == "about:blank" else PROBLEM_TYPE_PREFIX + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            doc["detail"] = self.detail
        if self.errors:
            doc["errors"] = [e.as_dict() for e in self.errors]
        return doc

    def to_response(self) -> Response[bytes]:
        return Response(
            content=json.dumps(self.body()).encode(),
            status_code=self.status,
            media_type=PROBLEM_JSON,
            headers=self.headers,
        )

    @classmethod
    def from_validation(cls, exc: ValidationError) -> Problem:
        return invalid_body(exc)

    def summary(self) -> str:
        """One line for the message store: where and what, never the value."""
        if not self.errors:
            return f"{self.status} {self.title}: {self.detail or ''}".strip()
        return "; ".join(f"{e.pointer or e.parameter}: {e.detail}" for e in self.errors)


def invalid_body(exc: ValidationError) -> Problem:
    """A located problem for a body that failed its model: 400 if not JSON at all, else 422."""
    errors = exc.errors(include_input=False, include_url=False, include_context=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return Problem(
            400, "Malformed JSON", "the request body is not valid JSON", "malformed-json"
        )
    if any(e["type"] == "model_type" and not e["loc"] for e in errors):
        return Problem(422, "Invalid request", "the request body must be a JSON object", "invalid")
    return Problem(
        422,
        "Invalid request",
        f"{len(errors)} field(s) failed validation",
        "validation",
        [FieldError(pointer, message) for pointer, message in located(exc)],
    )


def problem_handler(_: Request[Any, Any, Any], exc: Problem) -> Response[bytes]:
    return exc.to_response()


def _framework_validation(exc: ValidationException) -> Problem:
    """Litestar's binding errors: body fields by JSON pointer (422), parameters by name (400).

    The framework's own detail names the URL, query string included; it is not repeated.
    """
    errors: list[FieldError] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict) or "key" not in item:
            continue
        message = str(item.get("message", "")).removeprefix("Value error, ")
        source = getattr(item.get("source"), "value", item.get("source")) or "body"
        key = str(item["key"])
        if source == "body":
            errors.append(FieldError(json_pointer(key.split(".")), message))
        else:
            errors.append(FieldError(None, message, f"{source}:{key}"))
    if any(e.pointer is not None for e in errors):
        return Problem(
            422, "Invalid request", "the request body failed validation", "validation", errors
        )
    return Problem(400, "Bad Request", "invalid request parameters", "bad-parameters", errors)


def http_exception_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """Framework errors (404 route, 405, 413, bad parameters, bad bodies) in the same shape."""
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        return _framework_validation(exc).to_response()
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers or {})
    problem = Problem(exc.status_code, _title(exc.status_code), detail, headers=headers)
    return problem.to_response()


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """A bug, not bad input: log the type and path only (the message may hold PHI)."""
    _log.error("unhandled_error", error_type=type(exc).__name__, path=request.url.path)
    return Problem(HTTP_500_INTERNAL_SERVER_ERROR, "Internal error").to_response()


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    Problem: problem_handler,
    HTTPException: http_exception_handler,
    Exception: unexpected_error_handler,
}
