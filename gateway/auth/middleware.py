"""Bearer token authentication for every request outside the excluded paths.

Exclusions are anchored regular expressions: Litestar searches the pattern anywhere in the path,
so an unanchored ``/health`` would also open ``/v1/cases/health``. A rejected token is logged
only by its hash prefix, enough to correlate with the caller's report and useless to replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from litestar.connection import ASGIConnection
from litestar.middleware import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
    DefineMiddleware,
)
from litestar.types import ASGIApp, Method, Scopes

from gateway.auth.problems import invalid_token, missing_token, rate_limited
from gateway.auth.ratelimit import ClientRateLimiter, retry_after_seconds
from gateway.auth.verifier import TokenRejectedError, TokenVerifier, token_fingerprint

_log = structlog.get_logger("casegate.auth")

DEFAULT_EXCLUDED_PATHS: tuple[str, ...] = (
    r"^/health(?:/|$)",
    r"^/schema(?:/|$)",
    r"^/oauth/token$",
    r"^/\.well-known/",
)


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    """Sets ``request.user`` to the token's ``Principal``; answers 401 or 429 otherwise."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        rate_limiter: ClientRateLimiter | None = None,
        exclude: str | list[str] | None = None,
        exclude_from_auth_key: str = "exclude_from_auth",
        exclude_http_methods: Sequence[Method] | None = None,
        scopes: Scopes | None = None,
    ) -> None:
        super().__init__(
            app,
            exclude=exclude,
            exclude_from_auth_key=exclude_from_auth_key,
            exclude_http_methods=exclude_http_methods,
            scopes=scopes,
        )
        self._verifier = verifier
        self._rate_limiter = rate_limiter

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if header is None:
            raise missing_token()
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer":
            raise missing_token()
        token = credentials.strip()
        if not token:
            raise invalid_token("the bearer token is empty")
        try:
            principal = await self._verifier.verify(token)
        except TokenRejectedError as exc:
            _log.info(
                "bearer_token_rejected", reason=exc.reason, token_sha256=token_fingerprint(token)
            )
            raise invalid_token(exc.reason) from None
        if self._rate_limiter is not None:
            wait = self._rate_limiter.acquire(principal.client_id)
            if wait > 0:
                _log.info("client_rate_limited", client_id=principal.client_id)
                raise rate_limited(retry_after_seconds(wait))
        return AuthenticationResult(user=principal, auth=None)


def bearer_auth_middleware(
    verifier: TokenVerifier,
    rate_limiter: ClientRateLimiter | None = None,
    *,
    exclude: Sequence[str] = DEFAULT_EXCLUDED_PATHS,
) -> DefineMiddleware:
    """The middleware entry for ``Litestar(middleware=[...])``."""
    return DefineMiddleware(
        BearerTokenMiddleware,
        verifier=verifier,
        rate_limiter=rate_limiter,
        exclude=list(exclude),
    )
