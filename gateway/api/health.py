"""Liveness and readiness: live means the process answers; ready means the store answers and every
configured connector passes its side-effect-free check."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get

from gateway.orchestration.packs import packs_health
from gateway.runtime import runtime_of

_CHECK_TIMEOUT_SECONDS = 5.0


@get("/health/live", tags=["health"], exclude_from_auth=True)
async def live() -> dict[str, str]:
    return {"status": "ok"}


@get("/health/ready", tags=["health"], exclude_from_auth=True)
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    runtime = runtime_of(request)
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(runtime.store.ping(), _CHECK_TIMEOUT_SECONDS)
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"failed: {type(exc).__name__}"
    for name in runtime.connectors.names:
        try:
            await asyncio.wait_for(runtime.connectors.check(name), _CHECK_TIMEOUT_SECONDS)
            checks[f"connector:{name}"] = "ok"
        except Exception as exc:
            checks[f"connector:{name}"] = f"failed: {getattr(exc, 'reason', type(exc).__name__)}"
    checks["policies"], refused = packs_health(runtime.policies)
    healthy = all(v == "ok" for v in checks.values())
    status = "ready" if healthy else "not_ready"
    return Response(
        {"status": status, "checks": checks, "refused_packs": refused},
        status_code=200 if healthy else 503,
    )


HEALTH_HANDLERS = [live, ready]
