"""The ASGI application factory (`gateway.app:create_app`), so any ASGI server can run casegate.

Everything synchronous (settings, signing keys, the token verifier) is built here; everything
that needs the event loop (store, group committer, workers) in the lifespan.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from opentelemetry.metrics import MeterProvider

from gateway.api.cases import CASE_HANDLERS
from gateway.api.health import HEALTH_HANDLERS
from gateway.api.intake import INTAKE_HANDLERS
from gateway.api.openapi import openapi_config
from gateway.api.query import refuse_unknown_query_parameters
from gateway.api.subscriptions import SUBSCRIPTION_HANDLERS
from gateway.api.work_items import WORK_ITEM_HANDLERS
from gateway.auth.plugin import AuthPlugin
from gateway.background import Background
from gateway.fhir.facade import facade_router
from gateway.fhir.notifications import NOTIFICATION_HANDLERS
from gateway.hl7.edge import start_hl7_listener
from gateway.logs import adopt_server_loggers, configure_logging
from gateway.metrics import configure_metrics, gateway_metrics
from gateway.problems import EXCEPTION_HANDLERS
from gateway.request_tracing import request_tracing
from gateway.runtime import open_runtime
from gateway.settings import Settings, load_settings
from gateway.telemetry import configure_tracing


def create_app(
    settings: Settings | None = None, *, meter_provider: MeterProvider | None = None
) -> Litestar:
    """`meter_provider` replaces the process-wide one (which exports over OTLP if configured)."""
    settings = settings or load_settings()
    configure_logging(logging.getLevelNamesMapping()[settings.log_level])
    configure_tracing()
    configure_metrics()
    metrics = gateway_metrics(meter_provider)
    settings.home.mkdir(parents=True, exist_ok=True)
    auth = AuthPlugin(settings.auth, settings.home)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        adopt_server_loggers()
        runtime = await open_runtime(settings)
        app.state["runtime"] = runtime
        background = Background(runtime, metrics, with_workers=settings.workers.in_process)
        app.state["queue_sampler"] = background.sampler
        # What start-up built lives as long as the process: keep it out of every later full
        # collection, which otherwise walks it all and stalls every request in flight.
        gc.collect()
        gc.freeze()
        hl7 = await start_hl7_listener(runtime, metrics)
        stop = asyncio.Event()
        task = asyncio.create_task(background.run(stop))
        try:
            yield
        finally:
            if hl7 is not None:
                await hl7.aclose()
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
            await runtime.close()

    handlers = [*INTAKE_HANDLERS, *CASE_HANDLERS, *HEALTH_HANDLERS, *SUBSCRIPTION_HANDLERS]
    handlers += WORK_ITEM_HANDLERS
    return Litestar(
        route_handlers=[*handlers, facade_router(settings), *NOTIFICATION_HANDLERS],
        lifespan=[lifespan],
        plugins=[auth],
        middleware=[request_tracing(metrics)],
        # Logging is ours (gateway.logs): Litestar's default config would replace the root
        # handler with a plain-text one that bypasses the PHI redaction.
        logging_config=None,
        state=State({"metrics": metrics}),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(handlers),
        request_max_body_size=settings.server.max_body_bytes,
        before_request=refuse_unknown_query_parameters,
        debug=False,
    )
