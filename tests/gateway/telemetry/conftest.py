"""A gateway with its workers, observed: spans in memory, metrics through an in-memory reader,
and the outbound HTTP to the payer sandbox passing a relay that notes every `traceparent`.

The relay is a plain TCP pipe on loopback: the request bytes the connector sends are the bytes
the sandbox receives, so a header seen there is a header that went over the wire.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from connectors.payer_rest.sandbox import PayerRestSandbox
from gateway.app import create_app
from gateway.queue_sampler import QueueSampler
from gateway.serving import start_server
from gateway.telemetry import configure_tracing
from tests.gateway.api.support import dev_token
from tests.gateway.dispatch.conftest import LiveGateway, payer, routed_settings  # noqa: F401

_TRACEPARENT_LINE = re.compile(rb"^traceparent:\s*([0-9a-f\-]+)\s*$", re.IGNORECASE)


@dataclass
class TraceparentTap:
    """A TCP relay to `target_port` that records the traceparent header of every request."""

    target_port: int
    seen: list[str] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            server_in, server_out = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_out.close()
            return
        await asyncio.gather(
            self._pipe(client_in, server_out, scan=True),
            self._pipe(server_in, client_out, scan=False),
            return_exceptions=True,
        )

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, scan: bool
    ) -> None:
        pending = b""
        try:
            while data := await source.read(65536):
                if scan:
                    *lines, pending = (pending + data).split(b"\r\n")
                    for line in lines:
                        if match := _TRACEPARENT_LINE.match(line):
                            self.seen.append(match.group(1).decode())
                sink.write(data)
                await sink.drain()
        finally:
            sink.close()


@dataclass
class ObservedGateway:
    live: LiveGateway
    app: Litestar
    base_url: str
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    tap: TraceparentTap

    def finished_spans(self) -> list[ReadableSpan]:
        """The gateway's spans: everything but the test client's own calls to the gateway."""
        return [s for s in self.spans.get_finished_spans() if not self._is_test_client(s)]

    def _is_test_client(self, span: ReadableSpan) -> bool:
        url = str((span.attributes or {}).get("http.url", ""))
        return span.kind is SpanKind.CLIENT and url.startswith(self.base_url)

    async def metrics_data(self) -> MetricsData:
        sampler: QueueSampler = self.app.state["queue_sampler"]
        await sampler.refresh()
        data = self.metrics.get_metrics_data()
        assert data is not None
        return data


@pytest.fixture
def span_exporter() -> Iterator[InMemorySpanExporter]:
    """Every span finished in this process from now on, until the test ends."""
    exporter = InMemorySpanExporter()
    configure_tracing().add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()  # the processor stays registered; a stopped exporter keeps nothing


@pytest.fixture
async def observed(
    payer: PayerRestSandbox,  # noqa: F811 - the fixture imported above
    span_exporter: InMemorySpanExporter,
    tmp_path: Path,
) -> AsyncIterator[ObservedGateway]:
    tap = TraceparentTap(int(payer.base_url.rsplit(":", 1)[1]))
    relay_url = await tap.start()
    reader = InMemoryMetricReader()
    settings = routed_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'casegate.db'}",
        api_url=relay_url,
        token_url=f"{payer.base_url}/oauth/token",
        concurrency=4,
    )
    app = create_app(settings, meter_provider=MeterProvider(metric_readers=[reader]))
    server = await start_server(app)
    token = dev_token(settings)
    try:
        async with httpx.AsyncClient(
            base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as api:
            live = LiveGateway(api=api, runtime=app.state["runtime"], payer=payer)
            yield ObservedGateway(
                live=live,
                app=app,
                base_url=server.base_url,
                spans=span_exporter,
                metrics=reader,
                tap=tap,
            )
    finally:
        await server.stop()
        await tap.stop()
