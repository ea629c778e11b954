"""Moves cases to a payer through an X12 clearinghouse, in real time or by batch files.

The case becomes an interchange (`exchange`), a transport carries it (`realtime` or `batch`)
and the answer's acknowledgments and response become the decision or a connector error. The
same connector also hands the gateway the unsolicited files (835 remittances, 277 claim
status) waiting in the batch report folder; it never decides what they mean.
"""

from __future__ import annotations

from typing import ClassVar

from connectors.contract import (
    KNOWN_OPERATIONS,
    ConnectorConfig,
    ConnectorRequest,
    ConnectorResponse,
)
from connectors.errors import ConnectorError, PermanentError
from connectors.x12_clearinghouse.batch import BatchTransport
from connectors.x12_clearinghouse.config import X12ClearinghouseConfig
from connectors.x12_clearinghouse.control_numbers import (
    PROCESS_CONTROL_NUMBERS,
    ControlNumberSource,
)
from connectors.x12_clearinghouse.exchange import OPERATIONS, build_outgoing, read_answer
from connectors.x12_clearinghouse.realtime import RealTimeTransport

WIRE_FORMAT = "x12"


class X12ClearinghouseConnector:
    name: ClassVar[str] = "x12_clearinghouse"
    wire_format: ClassVar[str] = WIRE_FORMAT
    capabilities: ClassVar[frozenset[str]] = frozenset(OPERATIONS)
    Config: ClassVar[type[ConnectorConfig]] = X12ClearinghouseConfig

    def __init__(self, config: X12ClearinghouseConfig) -> None:
        self._config = config
        self._realtime = (
            RealTimeTransport(
                config.realtime,
                sender=config.sender,
                receiver=config.receiver,
                timeout_seconds=config.timeout_seconds,
            )
            if config.realtime is not None
            else None
        )
        self._batch = (
            BatchTransport(config.batch, timeout_seconds=config.timeout_seconds)
            if config.batch is not None
            else None
        )
        self._numbers: ControlNumberSource = PROCESS_CONTROL_NUMBERS

    def use_control_numbers(self, source: ControlNumberSource) -> None:
        """Take ISA13s from `source` (the gateway's persisted counters) from now on."""
        self._numbers = source

    @property
    def batch(self) -> BatchTransport | None:
        """The batch folders, for the gateway's pickup of 835 and 277 files."""
        return self._batch

    async def check(self) -> None:
        if self._realtime is not None:
            await self._realtime.check()
        if self._batch is not None:
            await self._batch.check()

    async def send(self, request: ConnectorRequest) -> ConnectorResponse:
        if request.operation not in self.capabilities:
            named = request.operation if request.operation in KNOWN_OPERATIONS else "unknown"
            raise PermanentError(f"x12_clearinghouse does not support the operation ({named})")
        partner = f"{self._config.receiver.qualifier}:{self._config.receiver.id}"
        number = await self._numbers.number_for(partner, request.idempotency_key)
        outgoing = build_outgoing(request, self._config, number)
        use_batch = self._realtime is None or (
            self._batch is not None and self._config.prefer == "batch"
        )
        if use_batch:
            assert self._batch is not None
            answer = await self._batch.send(request, outgoing.data)
        else:
            assert self._realtime is not None
            answer = (await self._realtime.send(request, outgoing.set_id, outgoing.data)).payload
        try:
            reading = read_answer(answer, outgoing)
        except ConnectorError as exc:
            exc.wire_request, exc.wire_response = outgoing.data, answer
            raise
        return ConnectorResponse(
            decision=reading.decision,
            wire_format=WIRE_FORMAT,
            wire_request=outgoing.data,
            wire_response=answer,
            payer_reference=reading.decision.payer_reference,
            left_out=outgoing.left_out,
            data=reading.data,
        )

    async def aclose(self) -> None:
        if self._realtime is not None:
            await self._realtime.aclose()
        if self._batch is not None:
            await self._batch.aclose()
