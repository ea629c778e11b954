"""The ASGI application factory (`gateway.app:create_app`), so any ASGI server can run casegate.

Everything synchronous (settings, signing keys, the token verifier) is built here; everything
that needs the event loop (store, group committer, workers) in the lifespan.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from gateway.api.cases import CASE_HANDLERS
from gateway.api.health import HEALTH_HANDLERS
from gateway.api.intake import INTAKE_HANDLERS
from gateway.api.openapi import openapi_config
from gateway.auth.plugin import AuthPlugin
from gateway.dispatch.worker import OutboxWorker
from gateway.logs import configure_logging
from gateway.problems import EXCEPTION_HANDLERS
from gateway.runtime import open_runtime
from gateway.settings import Settings, load_settings
from gateway.telemetry import configure_tracing


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    configure_logging()
    configure_tracing()
    settings.home.mkdir(parents=True, exist_ok=True)
    auth = AuthPlugin(settings.auth, settings.home)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = await open_runtime(settings)
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
    return Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        plugins=[auth],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(handlers),
        request_max_body_size=settings.server.max_body_bytes,
        debug=False,
    )
