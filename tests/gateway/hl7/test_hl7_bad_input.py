"""Bad HL7 input: each earns AE/AR (CE/CR here, as the sender asks for enhanced mode) with an ERR
segment that says where, is kept with its error, and leaves the connection usable; PHI planted
in the messages appears in no log line and no span."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from connectors.hl7v2_mllp.framing import frame
from gateway.settings import Hl7Settings
from gateway.span_export import otlp_json
from mappings.hl7v2 import parse
from tests.connectors.hl7v2_mllp.support import RawSender, golden
from tests.gateway.hl7.conftest import ORDER, Hl7Gateway, with_control_id
from tests.gateway.telemetry.conftest import span_exporter  # noqa: F401

TWENTY_MB = 20 * 1024 * 1024


def _no_msh(order: bytes) -> bytes:
    return order.split(b"\r", 1)[1]


def _bad_encoding_characters(order: bytes) -> bytes:
    return order.replace(b"^~\\&", b"^^\\&", 1)


def _unknown_type(order: bytes) -> bytes:
    return order.replace(b"ORM^O01^ORM_O01", b"ZZZ^Z01^ZZZ_Z01", 1)


def _truncated_segment(order: bytes) -> bytes:
    return order[: order.index(b"\rOBR|") + 5]


def _huge_obx(order: bytes) -> bytes:
    return order + b"OBX|1|ED|PDF^Report||^application^pdf^Base64^" + b"A" * TWENTY_MB + b"\r"


BAD_INPUT: list[tuple[str, Callable[[bytes], bytes], str, str | None]] = [
    # name, breaks the order, MSA-1, ERR-2 (segment^occurrence^field...)
    ("no_msh", _no_msh, "AR", None),
    ("bad_encoding_characters", _bad_encoding_characters, "CR", "MSH^1^2"),
    ("unknown_type", _unknown_type, "CR", "MSH^1^9^^1"),
    ("truncated_segment", _truncated_segment, "CE", "OBR^1^4^1"),
    ("twenty_mb_obx", _huge_obx, "CR", None),  # never buffered whole: its first 4 KB are kept
]


@pytest.mark.parametrize(
    ("name", "breaks", "code", "where"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT]
)
async def test_bad_input_is_answered_located_kept_and_the_connection_lives(
    gateway: Hl7Gateway,
    name: str,
    breaks: Callable[[bytes], bytes],
    code: str,
    where: str | None,
) -> None:
    order = golden(ORDER)
    raw = await RawSender.open(gateway.port)
    raw.writer.write(frame(breaks(order)))
    await raw.writer.drain()
    ack = await raw.frames.read_message()
    assert ack is not None
    msa = parse(ack).first("MSA")
    assert msa is not None and msa.value(1) == code, name
    err = parse(ack).first("ERR")
    assert err is not None
    if where is not None:
        assert "^".join(c[0] if c else "" for c in err.fields[1][0]).rstrip("^") == where
    # The same connection takes the next, good message.
    raw.writer.write(frame(with_control_id(order, f"GOOD-{name}"[:20])))
    await raw.writer.drain()
    good = await raw.frames.read_message()
    raw.writer.close()
    assert good is not None and parse(good).first("MSA") is not None
    assert parse(good).segments[1].value(1) == "CA"
    refused = await gateway.rows("SELECT error FROM messages WHERE error IS NOT NULL")
    assert len(refused) == 1
    assert await gateway.count("cases") == 1


async def test_garbage_between_frames_is_skipped(gateway: Hl7Gateway) -> None:
    order = golden(ORDER)
    raw = await RawSender.open(gateway.port)
    second = with_control_id(order, "ORD000124").replace(b"ORD-2026-0001", b"ORD-2026-0002")
    raw.writer.write(frame(order) + b"\r\n\x00keepalive garbage\n" + frame(second))
    await raw.writer.drain()
    acks = [await raw.frames.read_message(), await raw.frames.read_message()]
    raw.writer.close()
    assert [parse(a).segments[1].value(2) for a in acks if a] == ["ORD000123", "ORD000124"]
    assert await gateway.count("cases") == 2


async def test_planted_phi_reaches_no_log_and_no_span(
    gateway: Hl7Gateway,
    span_exporter: InMemorySpanExporter,  # noqa: F811 - the fixture imported above
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    canary = f"Zqcanary{uuid.uuid4().hex[:10]}"
    order = (
        golden(ORDER)
        .replace(b"Testpatient", canary.encode())
        .replace(b"MRN-000123", canary.encode())
    )
    messages = [
        order,
        with_control_id(order, "ORD000200"),
        _unknown_type(with_control_id(order, "ORD000201")),
        _truncated_segment(with_control_id(order, "ORD000202")),
        order.replace(b"|ORD000123|", f"|{canary}|".encode()),
    ]
    for message in messages:
        await gateway.send(message)
    assert await gateway.count("messages") >= 4
    spans = span_exporter.get_finished_spans()
    assert any(s.name == "hl7.intake" for s in spans)
    assert canary not in json.dumps(otlp_json(spans))
    assert canary not in capsys.readouterr().out
    assert canary not in caplog.text


class TestOriginalMode:
    @pytest.fixture
    def hl7_settings(self, hl7_settings: Hl7Settings) -> Hl7Settings:
        return hl7_settings.model_copy(update={"ack_mode": "original"})

    async def test_the_site_setting_overrides_the_mode_the_sender_asks_for(
        self, gateway: Hl7Gateway
    ) -> None:
        order = golden(ORDER)  # asks for enhanced mode (MSH-15 AL)
        codes = [
            parse(await gateway.send(message)).segments[1].value(1)
            for message in (
                order,
                _truncated_segment(with_control_id(order, "ORD000301")),
                _unknown_type(with_control_id(order, "ORD000302")),
            )
        ]
        assert codes == ["AA", "AE", "AR"]
