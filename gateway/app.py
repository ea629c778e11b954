"""The ASGI application factory (`gateway.app:create_app`), so any ASGI server can run casegate.

Everything synchronous (settings, signing keys, the token verifier) is built here; everything
that needs the event loop (store, group committer, workers) in the lifespan.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.types import ControllerRouterHandler, ExceptionHandlersMap

from gateway.api.cases import CASE_HANDLERS
from gateway.api.health import HEALTH_HANDLERS
from gateway.api.intake import INTAKE_HANDLERS
from gateway.api.openapi import openapi_config
from gateway.api.problems import EXCEPTION_HANDLERS
from gateway.auth.issuer import issuer_router
from gateway.auth.keys import dev_client, load_or_create_issuer_key
from gateway.auth.middleware import bearer_auth_middleware
from gateway.auth.problems import AUTH_EXCEPTION_HANDLERS
from gateway.auth.ratelimit import ClientRateLimiter
from gateway.auth.verifier import TokenVerifier
from gateway.dispatch.worker import OutboxWorker
from gateway.logs import configure_logging
from gateway.runtime import open_runtime
from gateway.settings import Settings, load_settings
from gateway.telemetry import configure_tracing


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    configure_logging()
    configure_tracing()
    settings.home.mkdir(parents=True, exist_ok=True)
    issuer_key = load_or_create_issuer_key(settings.home)
    clients = [*settings.auth.clients]
    if settings.auth.embedded_issuer:
        clients.append(dev_client(settings.home))
    verifier = TokenVerifier.from_settings(settings.auth, issuer_key, clients=clients)
    limiter = ClientRateLimiter(settings.auth.rate_limit_per_second, settings.auth.burst)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = await open_runtime(settings, issuer_key)
        app.state["runtime"] = runtime
        stop = asyncio.Event()
        workers = []
        if settings.workers.in_process:
            workers.append(asyncio.create_task(OutboxWorker(runtime).run(stop)))
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*workers, return_exceptions=True)
            await runtime.close()

    handlers = [*INTAKE_HANDLERS, *CASE_HANDLERS, *HEALTH_HANDLERS]
    routes: list[ControllerRouterHandler] = [*handlers]
    if settings.auth.embedded_issuer:
        routes.append(issuer_router(settings.auth, issuer_key, clients))
    exception_handlers: ExceptionHandlersMap = {**EXCEPTION_HANDLERS, **AUTH_EXCEPTION_HANDLERS}
    return Litestar(
        route_handlers=routes,
        lifespan=[lifespan],
        middleware=[bearer_auth_middleware(verifier, limiter)],
        exception_handlers=exception_handlers,
        openapi_config=openapi_config(handlers),
        request_max_body_size=settings.server.max_body_bytes,
        debug=False,
    )
