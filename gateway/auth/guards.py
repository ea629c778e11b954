"""Route-level authorization on top of the authenticated ``Principal``."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from gateway.auth.principal import Principal
from gateway.auth.problems import insufficient_scope, missing_token


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The verified caller; 401 when the route was reached without one (an excluded path)."""
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise missing_token()
    return user


def require_scopes(*scopes: str) -> Guard:
    """A guard refusing (403 ``insufficient_scope``) callers whose token lacks any of ``scopes``."""
    if not scopes:
        raise ValueError("require_scopes needs at least one scope")
    required = frozenset(scopes)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if not principal_of(connection).has_scopes(*required):
            raise insufficient_scope(required)

    return guard
