"""The ASGI application factory (`gateway.app:create_app`), so any ASGI server can run casegate.

Everything synchronous (settings, signing keys, the token verifier) is built here; everything
that needs the event loop (store, group committer, workers) in the lifespan.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from opentelemetry.metrics import MeterProvider

from gateway.api.cases import CASE_HANDLERS
from gateway.api.health import HEALTH_HANDLERS
from gateway.api.intake import INTAKE_HANDLERS
from gateway.api.openapi import openapi_config
from gateway.auth.plugin import AuthPlugin
from gateway.dispatch.worker import OutboxWorker
from gateway.logs import adopt_server_loggers, configure_logging
from gateway.metrics import configure_metrics, gateway_metrics
from gateway.problems import EXCEPTION_HANDLERS
from gateway.queue_sampler import QueueSampler
from gateway.request_tracing import request_tracing
from gateway.runtime import open_runtime
from gateway.settings import Settings, load_settings
from gateway.telemetry import configure_tracing


def create_app(
    settings: Settings | None = None, *, meter_provider: MeterProvider | None = None
) -> Litestar:
    """`meter_provider` replaces the process-wide one (which exports over OTLP if configured)."""
    settings = settings or load_settings()
    configure_logging()
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
        stop = asyncio.Event()
        sampler = QueueSampler(runtime.store)
        app.state["queue_sampler"] = sampler
        metrics.watch_queue(sampler)
        tasks = [asyncio.create_task(sampler.run(stop))]
        if settings.workers.in_process:
            tasks.append(asyncio.create_task(OutboxWorker(runtime, metrics=metrics).run(stop)))
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            metrics.unwatch_queue(sampler)
            await runtime.close()

    handlers = [*INTAKE_HANDLERS, *CASE_HANDLERS, *HEALTH_HANDLERS]
    return Litestar(
        route_handlers=handlers,
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
        debug=False,
    )
