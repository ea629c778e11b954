"""The client, the connector and the EHR sandbox against real listeners on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from canonical.base import Period
from canonical.decisions import Decision, DecisionOutcome
from connectors.contract import ConnectorRequest
from connectors.errors import PermanentError, ProtocolError, TransientError
from connectors.hl7v2_mllp import (
    NOTIFY,
    Hl7v2MllpConfig,
    Hl7v2MllpConnector,
    MllpListener,
    Peer,
)
from connectors.hl7v2_mllp.connector import control_id
from connectors.hl7v2_mllp.sandbox import (
    Answer,
    StatusReceiver,
    load_templates,
    send_stream,
    synthetic_messages,
)
from mappings.hl7v2 import AckMode, acknowledge, header_of, parse, read_inbound
from mappings.hl7v2.events import PriorAuthorizationOrder
from tests.connectors.hl7v2_mllp.support import GOLDEN, golden


def _order() -> PriorAuthorizationOrder:
    event = read_inbound(golden("orm-o01-knee-arthroplasty")).event
    assert isinstance(event, PriorAuthorizationOrder)
    return event


ORDER = _order()
APPROVED = Decision(
    outcome=DecisionOutcome.approved,
    auth_number="AUTH-7731",
    authorized_period=Period(start=date(2026, 12, 1), end=date(2027, 2, 28)),
    decided_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
)


def notify(key: str = "case-1:notify:1") -> ConnectorRequest:
    payload: dict[str, Any] = {
        "request": ORDER.request.model_dump(mode="json"),
        "decision": APPROVED.model_dump(mode="json"),
        "placer_order_numbers": list(ORDER.placer_order_numbers),
    }
    return ConnectorRequest(
        operation=NOTIFY,
        idempotency_key=key,
        case_id="case-1",
        case_type="prior_authorization",
        payload=payload,
    )


@pytest.fixture
async def receiver() -> AsyncIterator[StatusReceiver]:
    ehr = StatusReceiver(slow_first=1, slow_seconds=0.6)
    await ehr.start()
    yield ehr
    await ehr.aclose()


def connector(port: int, **options: Any) -> Hl7v2MllpConnector:
    options.setdefault("ack_timeout_seconds", 0.3)
    config = Hl7v2MllpConfig(host="127.0.0.1", port=port, **options)
    return Hl7v2MllpConnector(config)


async def test_the_connector_resends_on_ack_timeout_and_the_ehr_sees_the_duplicate(
    receiver: StatusReceiver,
) -> None:
    # The first message's ACK takes 0.6 s: one resend at 0.4 s, the ACK before the next at 0.8 s.
    sender = connector(receiver.listener.port, resends=3, ack_timeout_seconds=0.4)
    await sender.check()
    first = await sender.send(notify())
    second = await sender.send(notify("case-1:notify:2"))
    await sender.aclose()
    await sender.aclose()
    sent_id = control_id("case-1:notify:1")
    assert header_of(first.wire_request) is not None
    msa = parse(first.wire_response).first("MSA")
    assert msa is not None and (msa.value(1), msa.value(2)) == ("AA", sent_id)
    assert receiver.duplicates == {sent_id: 1}
    msa = parse(second.wire_response).first("MSA")
    assert msa is not None and msa.value(2) == control_id("case-1:notify:2")
    assert parse(receiver.received[0].message).header.value(9) == "ORM"


@pytest.mark.parametrize(
    ("answer", "mode", "error"),
    [
        (Answer.error, None, PermanentError),
        (Answer.error, AckMode.enhanced, PermanentError),
        (Answer.reject, None, TransientError),
        (Answer.reject, AckMode.enhanced, TransientError),
        (Answer.silence, None, TransientError),
        (Answer.garbage, None, ProtocolError),
    ],
)
async def test_acks_are_classified(
    answer: Answer, mode: AckMode | None, error: type[Exception]
) -> None:
    ehr = StatusReceiver(answer=answer, mode=mode)
    port = await ehr.start()
    sender = connector(port, resends=1)
    try:
        with pytest.raises(error) as caught:
            await sender.send(notify())
        assert "Testpatient" not in str(caught.value) + repr(caught.value)
    finally:
        await sender.aclose()
        await ehr.aclose()


async def test_enhanced_accept_is_success() -> None:
    ehr = StatusReceiver(mode=AckMode.enhanced)
    port = await ehr.start()
    sender = connector(port)
    try:
        response = await sender.send(notify())
    finally:
        await sender.aclose()
        await ehr.aclose()
    assert b"MSA|CA|" in response.wire_response


async def test_unreachable_listener_and_bad_payload(unused_port: int) -> None:
    sender = connector(unused_port)
    with pytest.raises(TransientError):
        await sender.check()
    with pytest.raises(PermanentError, match="decision notice"):
        await sender.send(
            ConnectorRequest(
                operation=NOTIFY,
                idempotency_key="k",
                case_id="c",
                case_type="prior_authorization",
                payload={"decision": {}},
            )
        )
    with pytest.raises(PermanentError, match="operation"):
        await sender.send(
            ConnectorRequest(
                operation="prior_auth.submit",
                idempotency_key="k",
                case_id="c",
                case_type="prior_authorization",
                payload={},
            )
        )
    await sender.aclose()


def test_synthetic_messages_vary_control_and_patient_ids() -> None:
    stream = synthetic_messages(load_templates(GOLDEN))
    messages = [parse(next(stream)) for _ in range(30)]
    control_ids = [m.header.value(10) for m in messages]
    patients = [p.value(3) for m in messages if (p := m.first("PID")) is not None]
    assert len(set(control_ids)) == 30
    assert len(set(patients)) == len(patients) > 10


async def test_the_ehr_sandbox_streams_to_a_listener_and_checks_every_ack() -> None:
    handled: list[str] = []

    async def handler(message: bytes, peer: Peer) -> bytes:
        header = header_of(message)
        assert header is not None
        handled.append(header.value(10))
        return acknowledge(header, control_id="X", at=datetime.now(UTC))

    async with MllpListener(handler) as listener:
        report = await send_stream(load_templates(GOLDEN), 40, host="127.0.0.1", port=listener.port)
    assert report.sent == 40 and report.timed_out == 0 and report.unechoed == 0
    assert sum(report.acks.values()) == 40 and set(report.acks) <= {"AA", "CA"}
    assert len(set(handled)) == 40
