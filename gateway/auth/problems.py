"""Auth failures as RFC 9457 problem documents with RFC 6750 challenges.

They are the gateway's one ``Problem`` type. Details are fixed phrases chosen by this package:
they never quote a token, a header or anything else the caller sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gateway.problems import Problem

REALM = "casegate"
# RFC 6750 section 3: error_description is %x20-21 / %x23-5B / %x5D-7E
_NOT_IN_CHALLENGE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def _challenge(**params: str) -> str:
    rendered = [f'realm="{REALM}"']
    rendered += [f'{name}="{_NOT_IN_CHALLENGE.sub("", value)}"' for name, value in params.items()]
    return "Bearer " + ", ".join(rendered)


def missing_token() -> Problem:
    """No bearer credentials at all: RFC 6750 section 3.1 says to add no error code then."""
    return Problem(
        status=401,
        slug="authentication-required",
        title="Authentication required",
        detail="send an access token as Authorization: Bearer <token>",
        headers={"WWW-Authenticate": _challenge()},
    )


def invalid_token(reason: str) -> Problem:
    return Problem(
        status=401,
        slug="invalid-token",
        title="Invalid access token",
        detail=reason,
        headers={"WWW-Authenticate": _challenge(error="invalid_token", error_description=reason)},
    )


def insufficient_scope(required: Iterable[str]) -> Problem:
    needed = " ".join(sorted(required))
    return Problem(
        status=403,
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


def rate_limited(retry_after_seconds: int) -> Problem:
    return Problem(
        status=429,
        slug="rate-limited",
        title="Too many requests",
        detail=f"this client is over its request rate; retry in {retry_after_seconds} s",
        headers={"Retry-After": str(retry_after_seconds)},
    )
