"""The HL7 flow: the EHR sandbox places part of the backlog as ORM^O01 orders over MLLP; the
listener opens a case for each order its payer's policy says needs authorization (the rest are
kept and acknowledged), and each decision goes back to the EHR as an order-status message."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from canonical.cases import PriorAuthorizationRequest
from canonical.status import DECIDED_STATUSES
from connectors.hl7v2_mllp import MllpClient
from connectors.hl7v2_mllp.orders import order_message
from connectors.hl7v2_mllp.sandbox import StatusReceiver
from gateway.demo.backlog import backlog
from gateway.demo.flow import DemoContext, FlowResult
from gateway.settings import ConnectorInstance, Hl7Sender, Hl7Settings, Settings
from gateway.store.schema import cases, hl7_cases, idempotency_keys
from mappings.hl7v2 import parse

CONNECTOR = "ehr_mllp"
EHR_APPLICATION = "DEMOEHR"
SEED = 7  # another slice of synthetic patients than the API flows send
MAX_CONNECTIONS = 8
NOTICE_WAIT_SECONDS = 15.0
NOTICE_POLL_SECONDS = 0.2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Hl7Flow:
    name = "HL7 v2 orders over MLLP"
    weight = 3

    def __init__(self) -> None:
        self._ehr: StatusReceiver | None = None
        self._port = 0
        self._sent = 0
        self._refused = 0
        self._opened: set[str] = set()

    async def start(self, home: Path) -> None:
        self._ehr = StatusReceiver()
        await self._ehr.start()
        self._port = _free_port()

    def configure(self, settings: Settings) -> Settings:
        assert self._ehr is not None
        instance = ConnectorInstance(
            kind="hl7v2_mllp",
            config={"host": "127.0.0.1", "port": self._ehr.listener.port, "ack_timeout_seconds": 5},
        )
        listener = Hl7Settings(
            enabled=True,
            port=self._port,
            senders=[Hl7Sender(application=EHR_APPLICATION)],
            decisions_to=CONNECTOR,
        )
        return settings.model_copy(
            update={"connectors": {**settings.connectors, CONNECTOR: instance}, "hl7": listener}
        )

    async def run(self, ctx: DemoContext) -> FlowResult:
        at = datetime.now(UTC)
        messages = [
            order_message(
                PriorAuthorizationRequest.model_validate(body),
                control_id=f"DEMO{n:08d}",
                placer_prefix=f"DEMO-ORD-{n}",
                at=at,
                sending_application=EHR_APPLICATION,
            )
            for n, body in enumerate(backlog(ctx.count, seed=SEED))
        ]
        connections = max(1, min(ctx.concurrency, MAX_CONNECTIONS))
        acked: dict[str, float] = {}
        await asyncio.gather(
            *(self._send(messages[i::connections], acked) for i in range(connections))
        )
        self._sent = len(messages)
        result = FlowResult(refused=self._refused)
        async with ctx.runtime.store.connect() as conn:
            rows = await conn.execute(
                sa.select(idempotency_keys.c.key, idempotency_keys.c.case_id).where(
                    idempotency_keys.c.client_id.startswith("hl7v2:"),
                    idempotency_keys.c.key.in_(list(acked)),
                    idempotency_keys.c.case_id.is_not(None),
                )
            )
            for control_id, case_id in rows:
                result.accepted[case_id] = acked[control_id]
        self._opened = set(result.accepted)
        return result

    async def _send(self, messages: Sequence[bytes], acked: dict[str, float]) -> None:
        client = MllpClient("127.0.0.1", self._port, ack_timeout_seconds=30)
        try:
            for message in messages:
                msa = parse(await client.send(message)).first("MSA")
                if msa is not None and msa.value(1) in ("AA", "CA"):
                    acked[msa.value(2)] = time.monotonic()
                else:
                    self._refused += 1
        finally:
            await client.aclose()

    async def report(self, ctx: DemoContext) -> list[str]:
        assert self._ehr is not None
        decided = await self._decided(ctx)
        for _ in range(int(NOTICE_WAIT_SECONDS / NOTICE_POLL_SECONDS)):
            if self._ehr.effects() >= decided:
                break
            await asyncio.sleep(NOTICE_POLL_SECONDS)
        kept = self._sent - self._refused - len(self._opened)
        return [
            f"HL7 EHR: {self._sent} ORM^O01 orders over MLLP; {len(self._opened)} opened cases,"
            f" {kept} kept without one (no authorization needed), {self._refused} refused",
            f"HL7 EHR: {self._ehr.effects()} decisions received as order-status messages"
            f" for {decided} decided cases ({sum(self._ehr.duplicates.values())} resent)",
        ]

    async def _decided(self, ctx: DemoContext) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(hl7_cases.join(cases, cases.c.id == hl7_cases.c.case_id))
            .where(cases.c.status.in_([s.value for s in DECIDED_STATUSES]))
        )
        async with ctx.runtime.store.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def stop(self) -> None:
        if self._ehr is not None:
            await self._ehr.aclose()
