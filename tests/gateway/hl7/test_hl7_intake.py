"""HL7 v2 over MLLP into the gateway: an order opens one durable case before its ACK, a resend
gets the stored ACK and stores nothing, each connection is answered in order, later messages
change the open case, and a sender off the allow list is refused (and kept)."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest

from connectors.hl7v2_mllp.framing import frame
from connectors.hl7v2_mllp.sandbox import synthetic_messages
from gateway.replay import replay_message
from gateway.settings import Hl7Sender, Hl7Settings
from mappings.hl7v2 import parse
from tests.connectors.hl7v2_mllp.support import RawSender, golden
from tests.gateway.hl7.conftest import Hl7Gateway, sent_order, with_control_id


def _msa(ack: bytes) -> tuple[str, str]:
    msa = parse(ack).first("MSA")
    assert msa is not None
    return msa.value(1), msa.value(2)


async def test_an_order_opens_one_case_and_a_resend_after_a_lost_ack_gets_the_same_ack(
    gateway: Hl7Gateway, order: bytes
) -> None:
    order = sent_order(order)
    raw = await RawSender.open(gateway.port)
    raw.writer.write(frame(order))
    await raw.writer.drain()
    await gateway.wait_for(lambda: _exists(gateway, "idempotency_keys"))
    raw.writer.close()  # the ACK is lost with the connection; the sender times out and resends
    first = await gateway.send(order)
    again = await gateway.send(order)
    assert first == again
    assert _msa(first) == ("CA", "ORD000123")
    [(stored,)] = await gateway.rows("SELECT response_body FROM idempotency_keys")
    assert bytes(stored) == first
    assert await gateway.count("cases") == 1
    assert await gateway.count("messages") == 1
    assert await gateway.count("outbox_jobs", "kind = 'case.send'") == 1
    [(status, payer)] = await gateway.rows("SELECT status, payer_id FROM cases")
    assert status == "draft" and payer
    assert await gateway.count("hl7_order_refs") == 1


async def _exists(gateway: Hl7Gateway, table: str) -> bool:
    return await gateway.count(table) > 0


async def test_each_connection_is_answered_in_order(gateway: Hl7Gateway, order: bytes) -> None:
    messages = list(itertools.islice(synthetic_messages([order], prefix="SEQ"), 30))
    raw = await RawSender.open(gateway.port)
    raw.writer.write(b"".join(frame(m) for m in messages))  # all at once, before any ACK
    await raw.writer.drain()
    acks = [await raw.frames.read_message() for _ in messages]
    raw.writer.close()
    assert [_msa(a) for a in acks if a is not None] == [("CA", f"SEQ{n:08d}") for n in range(1, 31)]
    # Cases were opened in the order the messages came (case ids sort by creation).
    rows = await gateway.rows("SELECT case_id, placer_order_numbers FROM hl7_cases")
    placers = [json.loads(n) if isinstance(n, str) else n for _, n in sorted(rows)]
    assert placers == [[f"ORD-2026-0001-{n}"] for n in range(1, 31)]


async def test_connections_are_served_concurrently_each_once(
    gateway: Hl7Gateway, order: bytes
) -> None:
    streams = [
        list(
            itertools.islice(
                synthetic_messages([order.replace(b"ORD-2026", f"C{c}".encode())], f"C{c}-"), 10
            )
        )
        for c in range(5)
    ]

    async def send_all(messages: list[bytes]) -> list[str]:
        client = gateway.client()
        try:
            return [_msa(await client.send(m))[0] for m in messages]
        finally:
            await client.aclose()

    results = await asyncio.gather(*(send_all(s) for s in streams))
    assert all(code == "CA" for codes in results for code in codes)
    assert await gateway.count("cases") == 50


async def test_later_messages_change_the_open_case(gateway: Hl7Gateway, order: bytes) -> None:
    assert _msa(await gateway.send(order))[0] == "CA"
    document = golden("mdm-t02-pdf-progress-note")
    assert _msa(await gateway.send(document))[0] in ("AA", "CA")
    [(case_id,)] = await gateway.rows("SELECT id FROM cases")
    attached = await gateway.rows(
        f"SELECT type FROM case_events WHERE case_id = '{case_id}' ORDER BY seq"
    )
    assert [t for (t,) in attached] == ["case.created", "case.attachment_added"]
    cancel = golden("orm-o01-v27-cancel")
    assert _msa(await gateway.send(cancel))[0] in ("AA", "CA")
    [(status,)] = await gateway.rows("SELECT status FROM cases")
    assert status == "cancelled"
    # The cancel again (a resend): the same ACK, no second event, no second message.
    events = await gateway.count("case_events")
    messages = await gateway.count("messages")
    await gateway.send(cancel)
    assert (await gateway.count("case_events"), await gateway.count("messages")) == (
        events,
        messages,
    )


async def test_a_message_that_opens_nothing_is_kept_and_accepted(gateway: Hl7Gateway) -> None:
    registration = golden("adt-a04-registered")
    code, echoed = _msa(await gateway.send(registration))
    assert code in ("AA", "CA") and echoed
    assert await gateway.count("cases") == 0
    assert await gateway.count("messages", "error IS NULL") == 1


class TestAllowList:
    @pytest.fixture
    def hl7_settings(self, hl7_settings: Hl7Settings) -> Hl7Settings:
        return hl7_settings.model_copy(update={"senders": [Hl7Sender(application="LABSYS")]})

    async def test_a_sender_off_the_list_is_refused_kept_and_the_connection_lives(
        self, gateway: Hl7Gateway, order: bytes
    ) -> None:
        client = gateway.client()
        try:
            first = await client.send(order)
            second = await client.send(with_control_id(order, "ORD000999"))
        finally:
            await client.aclose()
        assert _msa(first) == ("CR", "ORD000123")
        assert _msa(second) == ("CR", "ORD000999")
        err = parse(first).first("ERR")
        assert err is not None and err.value(2, 1) == "MSH" and err.value(2, 3) == "3"
        assert await gateway.count("cases") == 0
        assert await gateway.count("idempotency_keys") == 0
        [(error,)] = await gateway.rows("SELECT DISTINCT error FROM messages")
        assert "allow list" in error
        assert await gateway.count("messages") == 2


async def test_a_reschedule_moves_the_dates_and_a_coverage_change_is_noted(
    gateway: Hl7Gateway, order: bytes
) -> None:
    await gateway.send(order)
    assert _msa(await gateway.send(golden("siu-s13-rescheduled")))[0] in ("AA", "CA")
    [(payload,)] = await gateway.rows("SELECT payload FROM cases")
    lines = (json.loads(payload) if isinstance(payload, str) else payload)["service_lines"]
    assert lines[0]["service_period"]["start"] == "2026-12-21"
    legacy = golden("orm-o01-v23-dependent-two-orders").strip(b"\x0b\x1c\r")
    await gateway.send(legacy)  # the same patient's order, from the clinic's old system
    coverage = golden("adt-a08-coverage-change").replace(b"EPIC|GENHOSP", b"LEGACYHIS|NORTHCLINIC")
    await gateway.send(coverage)
    types = [t for (t,) in await gateway.rows("SELECT type FROM case_events ORDER BY id")]
    assert types == [
        "case.created",
        "case.appointment_rescheduled",
        "case.created",
        "case.coverage_changed",  # another payer: noted for a person, the case left as it is
    ]


class TestReplay:
    @pytest.fixture
    def hl7_settings(self, hl7_settings: Hl7Settings) -> Hl7Settings:
        return hl7_settings.model_copy(update={"senders": [Hl7Sender(application="LABSYS")]})

    async def test_a_refused_order_replayed_after_the_fix_opens_one_case(
        self, gateway: Hl7Gateway, order: bytes
    ) -> None:
        await gateway.send(order)  # refused: the sender is not on the allow list yet
        [(message_id,)] = await gateway.rows("SELECT id FROM messages WHERE error IS NOT NULL")
        first = await replay_message(gateway.runtime, message_id, "operator")
        again = await replay_message(gateway.runtime, message_id, "operator")
        assert (first.kind, again.kind) == ("accepted", "replayed")
        assert first.case_id is not None and again.case_id == first.case_id
        assert await gateway.count("cases") == 1
        assert await gateway.count("hl7_cases") == 1
        still = await replay_message(
            gateway.runtime, await _kept(gateway, _unknown(order)), "operator"
        )
        assert still.kind == "still_invalid" and still.errors[0][0] == "segment 1 MSH-9.1"


def _unknown(order: bytes) -> bytes:
    return with_control_id(order, "ORD000777").replace(b"ORM^O01^ORM_O01", b"ZZZ^Z01", 1)


async def _kept(gateway: Hl7Gateway, message: bytes) -> str:
    await gateway.send(message)
    rows = await gateway.rows("SELECT id FROM messages WHERE error IS NOT NULL ORDER BY id")
    return str(rows[-1][0])
