"""Route-level authorization on top of the authenticated ``Principal``.

A refusal here is an audit entry too (once the app runs with a runtime): the 403 names the
client and token id; the 401 for a route reached without a principal goes the middleware's way.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from gateway.audit.entries import access_denied
from gateway.audit.writer import record_refusal
from gateway.auth.middleware import refused
from gateway.auth.principal import Principal
from gateway.auth.problems import insufficient_scope, missing_token
from gateway.auth.verifier import token_fingerprint
from gateway.telemetry import current_trace_id


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The verified caller; 401 when the route was reached without one (an excluded path)."""
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise missing_token()
    return user


def _bearer_fingerprint(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    token = credentials.strip()
    return token_fingerprint(token) if scheme.lower() == "bearer" and token else None


async def _audit_denied(
    connection: ASGIConnection[Any, Any, Any, Any], principal: Principal, required: frozenset[str]
) -> None:
    entry = access_denied(
        client_id=principal.client_id,
        token_jti=principal.jti,
        token_sha256=_bearer_fingerprint(connection),
        source_address=connection.client.host if connection.client else None,
        required_scopes=required,
        method=str(connection.scope.get("method", "")),
        route=connection.scope.get("path_template", ""),
        trace_id=current_trace_id(),
    )
    await record_refusal(connection.app.state, entry)


def require_scopes(*scopes: str) -> Guard:
    """A guard refusing (403 ``insufficient_scope``) callers whose token lacks any of ``scopes``."""
    return _scope_guard(frozenset(scopes), every=True)


def require_any_scope(*scopes: str) -> Guard:
    """A guard letting in callers holding at least one of ``scopes`` (admin, or a narrow grant)."""
    return _scope_guard(frozenset(scopes), every=False)


def _scope_guard(required: frozenset[str], *, every: bool) -> Guard:
    if not required:
        raise ValueError("a scope guard needs at least one scope")

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.scope.get("user")
        if not isinstance(user, Principal):
            raise await refused(connection, missing_token(), "no bearer token")
        if not (user.has_scopes(*required) if every else user.scopes & required):
            await _audit_denied(connection, user, required)
            raise insufficient_scope(required)

    return guard
