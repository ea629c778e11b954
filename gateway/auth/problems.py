"""Auth failures as RFC 9457 problem documents with RFC 6750 challenges.

``AuthProblem`` subclasses Litestar's ``ProblemDetailsException``, so it renders as
``application/problem+json`` whether the app registers ``AUTH_EXCEPTION_HANDLERS`` or Litestar's
problem-details plugin. Details are fixed phrases chosen by this package: they never quote a
token, a header or anything else the caller sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from litestar import Request, Response
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.types import ExceptionHandlersMap

REALM = "casegate"
PROBLEM_TYPE_PREFIX = "urn:casegate:problem:"
# RFC 6750 section 3: error_description is %x20-21 / %x23-5B / %x5D-7E
_NOT_IN_CHALLENGE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


class AuthProblem(ProblemDetailsException):
    """A 401, 403 or 429 the auth layer answers with."""

    def __init__(
        self,
        *,
        status_code: int,
        slug: str,
        title: str,
        detail: str,
        headers: dict[str, str],
    ) -> None:
        super().__init__(
            detail=detail,
            status_code=status_code,
            headers=headers,
            type_=f"{PROBLEM_TYPE_PREFIX}{slug}",
            title=title,
        )


def _challenge(**params: str) -> str:
    rendered = [f'realm="{REALM}"']
    rendered += [f'{name}="{_NOT_IN_CHALLENGE.sub("", value)}"' for name, value in params.items()]
    return "Bearer " + ", ".join(rendered)


def missing_token() -> AuthProblem:
    """No bearer credentials at all: RFC 6750 section 3.1 says to add no error code then."""
    return AuthProblem(
        status_code=401,
        slug="authentication-required",
        title="Authentication required",
        detail="send an access token as Authorization: Bearer <token>",
        headers={"WWW-Authenticate": _challenge()},
    )


def invalid_token(reason: str) -> AuthProblem:
    return AuthProblem(
        status_code=401,
        slug="invalid-token",
        title="Invalid access token",
        detail=reason,
        headers={"WWW-Authenticate": _challenge(error="invalid_token", error_description=reason)},
    )


def insufficient_scope(required: Iterable[str]) -> AuthProblem:
    needed = " ".join(sorted(required))
    return AuthProblem(
        status_code=403,
        slug="insufficient-scope",
        title="Insufficient scope",
        detail=f"this operation needs scope {needed}",
        headers={
            "WWW-Authenticate": _challenge(
                error="insufficient_scope",
                error_description="the token lacks a required scope",
                scope=needed,
            )
        },
    )


def rate_limited(retry_after_seconds: int) -> AuthProblem:
    return AuthProblem(
        status_code=429,
        slug="rate-limited",
        title="Too many requests",
        detail=f"this client is over its request rate; retry in {retry_after_seconds} s",
        headers={"Retry-After": str(retry_after_seconds)},
    )


def auth_problem_response(request: Request[Any, Any, Any], exc: AuthProblem) -> Response[Any]:
    return exc.to_response(request)


AUTH_EXCEPTION_HANDLERS: ExceptionHandlersMap = {AuthProblem: auth_problem_response}
