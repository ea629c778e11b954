"""A gateway with its MLLP listener on loopback, as `casegate serve` runs it (the app's lifespan),
and an EHR on the other side: the messages it sends and the status receiver for decisions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from connectors.hl7v2_mllp import MllpClient
from connectors.hl7v2_mllp.sandbox import StatusReceiver
from connectors.payer_rest.sandbox import PayerRestSandbox
from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.serving import start_server
from gateway.settings import (
    ConnectorInstance,
    Hl7Sender,
    Hl7Settings,
    Route,
    Settings,
    WorkerSettings,
)
from tests.connectors.hl7v2_mllp.support import golden
from tests.gateway.api.support import dev_token, free_port
from tests.gateway.dispatch.conftest import payer, routed_settings  # noqa: F401

ORDER = "orm-o01-knee-arthroplasty"


def sent_order(order: bytes) -> bytes:
    """The golden order as a knee MRI: the payer's pack lets it go out at once, where the knee
    replacement waits for a person to name the surgeon (HL7 orders do not carry one)."""
    return order.replace(b"27447^Total knee arthroplasty", b"73721^MRI knee without contrast")


def with_control_id(message: bytes, control_id: str) -> bytes:
    """`message` with MSH-10 replaced (the golden files share theirs)."""
    fields = message.split(b"\r", 1)[0].split(b"|")
    fields[9] = control_id.encode()
    return b"|".join(fields) + b"\r" + message.split(b"\r", 1)[1]


@dataclass
class Hl7Gateway:
    runtime: Runtime
    port: int
    api_url: str
    token: str

    def client(self, **options: Any) -> MllpClient:
        return MllpClient("127.0.0.1", self.port, ack_timeout_seconds=10, **options)

    async def send(self, message: bytes) -> bytes:
        client = self.client()
        try:
            return await client.send(message)
        finally:
            await client.aclose()

    async def count(self, table: str, where: str = "1=1") -> int:
        async with self.runtime.store.connect() as conn:
            query = sa.text(f"SELECT count(*) FROM {table} WHERE {where}")
            return int((await conn.execute(query)).scalar_one())

    async def get(self, path: str) -> httpx.Response:
        """A read through the gateway's HTTP API, as the development client."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.api_url, headers=headers) as api:
            return await api.get(path)

    async def rows(self, query: str) -> list[Any]:
        async with self.runtime.store.connect() as conn:
            return list((await conn.execute(sa.text(query))).all())

    async def wait_for(self, check: Callable[[], Awaitable[bool]], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not await check():
            assert time.monotonic() < deadline, "the condition never held"
            await asyncio.sleep(0.05)


async def _serving(settings: Settings) -> AsyncIterator[Hl7Gateway]:
    app = create_app(settings)
    server = await start_server(app)
    try:
        runtime: Runtime = app.state["runtime"]
        yield Hl7Gateway(
            runtime=runtime,
            port=settings.hl7.port,
            api_url=server.base_url,
            token=dev_token(settings),
        )
    finally:
        await server.stop()


@pytest.fixture
def hl7_settings() -> Hl7Settings:
    return Hl7Settings(enabled=True, port=free_port())


@pytest.fixture
async def gateway(
    database_url: str, tmp_path: Path, hl7_settings: Hl7Settings
) -> AsyncIterator[Hl7Gateway]:
    """Workers off: what intake wrote stays as written."""
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        workers=WorkerSettings(in_process=False),
        hl7=hl7_settings,
    )
    async for running in _serving(settings):
        yield running


@pytest.fixture
async def ehr() -> AsyncIterator[StatusReceiver]:
    receiver = StatusReceiver()
    await receiver.start()
    yield receiver
    await receiver.aclose()


@pytest.fixture
def decision_form() -> str:
    """The form the site takes decisions in (the ehr connector's `form`)."""
    return "order_status"


@pytest.fixture
async def live(
    payer: PayerRestSandbox,  # noqa: F811 - the fixture imported above
    ehr: StatusReceiver,
    tmp_path: Path,
    decision_form: str,
) -> AsyncIterator[Hl7Gateway]:
    """Workers on, routed to the payer sandbox; decisions go back to the EHR's receiver."""
    routed = routed_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'casegate.db'}",
        api_url=payer.base_url,
        token_url=f"{payer.base_url}/oauth/token",
    )
    ehr_connector = ConnectorInstance(
        kind="hl7v2_mllp",
        config={
            "host": "127.0.0.1",
            "port": ehr.listener.port,
            "ack_timeout_seconds": 2,
            "form": decision_form,
        },
    )
    settings = routed.model_copy(
        update={
            "connectors": {**routed.connectors, "ehr": ehr_connector},
            "routes": [Route(payer="*", connector="acme")],
            "hl7": Hl7Settings(
                enabled=True,
                port=free_port(),
                senders=[Hl7Sender(application="EPIC")],
                decisions_to="ehr",
            ),
        }
    )
    async for running in _serving(settings):
        yield running


@pytest.fixture
def order() -> bytes:
    return golden(ORDER)
