"""The MLLP listener on real loopback TCP: order, ACK discipline, refusals, TLS."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.hl7v2_mllp import (
    AllowedSender,
    MllpListener,
    Peer,
    client_tls_context,
    server_tls_context,
)
from mappings.hl7v2 import (
    ErrorCode,
    Hl7MappingError,
    Issue,
    Location,
    acknowledge,
    header_of,
    parse,
)
from tests.connectors.hl7v2_mllp.support import RawSender, golden, make_cert

# MSH-3 EPIC, MSH-4 GENHOSP, MSH-10 ORD000123, MSH-15 AL (so enhanced mode: CA/CE/CR).
ORDER = golden("orm-o01-knee-arthroplasty")
ORIGINAL_MODE = golden("orm-o01-v27-cancel")  # MSH-10 ORD000124, no MSH-15/16


def numbered(n: int) -> bytes:
    return ORDER.replace(b"|ORD000123|", f"|C{n}|".encode())


def ack_of(message: bytes) -> bytes:
    return acknowledge(header_of(message), control_id="A", at=datetime.now(UTC))


async def test_each_connection_is_served_in_order_while_connections_run_concurrently() -> None:
    seen: dict[int, list[str]] = {}

    async def handler(message: bytes, peer: Peer) -> bytes:
        header = header_of(message)
        assert header is not None
        number = int(header.value(10)[1:])
        await asyncio.sleep(0.02 if number % 2 else 0.0)  # out of order if run concurrently
        seen.setdefault(peer.port, []).append(header.value(10))
        return ack_of(message)

    async with MllpListener(handler) as listener:
        senders = [await RawSender.open(listener.port) for _ in range(4)]

        async def converse(index: int, sender: RawSender) -> list[str]:
            ids = [index * 100 + n for n in range(8)]
            for n in ids:  # pipelined: all written before any ACK is read
                await sender.send(numbered(n))
            echoed = [(await sender.ack())[1] for _ in ids]
            assert echoed == [f"C{n}" for n in ids]
            return echoed

        results = await asyncio.gather(*(converse(i, s) for i, s in enumerate(senders)))
        for sender in senders:
            await sender.close()
    assert sorted(map(sorted, seen.values())) == sorted(map(sorted, results))
    assert all(order == sorted(order, key=lambda c: int(c[1:])) for order in seen.values())


async def test_no_ack_is_sent_before_the_handler_returns_and_only_its_ack() -> None:
    release = asyncio.Event()
    marker = (
        b"MSH|^~\\&|CASEGATE||EPIC||20260101||ACK^O01^ACK|HANDLER-OWN|P|2.5.1\rMSA|AA|ORD000123\r"
    )

    async def handler(message: bytes, peer: Peer) -> bytes:
        await release.wait()
        return marker

    async with MllpListener(handler) as listener:
        sender = await RawSender.open(listener.port)
        await sender.send(ORDER)
        with pytest.raises(TimeoutError):
            await sender.ack(timeout=0.3)
        release.set()
        code, echoed, data = await sender.ack()
        assert (code, echoed, data) == ("AA", "ORD000123", marker)
        await sender.close()


async def test_a_failing_handler_earns_an_error_ack_and_the_connection_lives_on() -> None:
    calls = 0

    async def handler(message: bytes, peer: Peer) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise Hl7MappingError(
                [Issue(Location("PID", 2, 1, 3), ErrorCode.required_field_missing, "no MRN")]
            )
        if calls == 2:
            raise RuntimeError("database is down")
        return ack_of(message)

    async with MllpListener(handler) as listener:
        sender = await RawSender.open(listener.port)
        for n in range(3):
            await sender.send(numbered(n))
        first, second, third = [await sender.ack() for _ in range(3)]
        await sender.close()
    assert first[:2] == ("CE", "C0")
    assert parse(first[2]).first("ERR") is not None
    assert b"ERR||PID^1^3|101^" in first[2]
    assert second[:2] == ("CR", "C1")
    err = parse(second[2]).first("ERR")
    assert err is not None and err.value(3) == "207"
    assert b"database" not in second[2]
    assert third[:2] == ("CA", "C2")


async def test_original_mode_answers_ae_and_ar() -> None:
    async def handler(message: bytes, peer: Peer) -> bytes:
        if b"MRN-" in message:
            raise Hl7MappingError(
                [Issue(Location("PID", 2, 1, 3), ErrorCode.required_field_missing, "no MRN")]
            )
        raise RuntimeError("database is down")

    async with MllpListener(handler) as listener:
        sender = await RawSender.open(listener.port)
        await sender.send(ORIGINAL_MODE)
        await sender.send(ORIGINAL_MODE.replace(b"MRN-", b"NUM-"))
        error, reject = await sender.ack(), await sender.ack()
        await sender.close()
    assert error[:2] == ("AE", "ORD000124")
    assert reject[:2] == ("AR", "ORD000124")


@pytest.mark.parametrize(
    ("allowed", "refused_field"),
    [
        ([AllowedSender("CERNER")], "3"),
        ([AllowedSender("EPIC", facility="OTHERHOSP")], "4"),
        ([AllowedSender("EPIC", networks=(ipaddress.ip_network("10.0.0.0/8"),))], ""),
    ],
)
async def test_a_sender_off_the_allow_list_is_refused_before_the_handler(
    allowed: list[AllowedSender], refused_field: str
) -> None:
    handled: list[bytes] = []

    async def handler(message: bytes, peer: Peer) -> bytes:
        handled.append(message)
        return ack_of(message)

    async with MllpListener(handler, allowed=allowed) as listener:
        sender = await RawSender.open(listener.port)
        await sender.send(ORDER)
        code, echoed, data = await sender.ack()
        await sender.close()
    assert (code, echoed, handled) == ("CR", "ORD000123", [])
    err = parse(data).first("ERR")
    assert err is not None and err.value(3) == "103"
    assert err.value(2, 3) == refused_field


async def test_an_allowed_sender_reaches_the_handler() -> None:
    async def handler(message: bytes, peer: Peer) -> bytes:
        return ack_of(message)

    allowed = [AllowedSender("EPIC", "GENHOSP", networks=(ipaddress.ip_network("127.0.0.0/8"),))]
    async with MllpListener(handler, allowed=allowed) as listener:
        sender = await RawSender.open(listener.port)
        await sender.send(ORDER)
        assert (await sender.ack())[:2] == ("CA", "ORD000123")
        await sender.close()


async def test_an_oversize_frame_is_refused_and_stray_bytes_are_counted() -> None:
    async def handler(message: bytes, peer: Peer) -> bytes:
        return ack_of(message)

    big = ORDER + b"OBX|1|ED|PDF||" + b"A" * 50_000 + b"\r"
    async with MllpListener(handler, max_message_bytes=20_000) as listener:
        sender = await RawSender.open(listener.port)
        await sender.send(big)
        await sender.send(numbered(2), raw=b"\r\n\r\n")
        too_large, after = await sender.ack(), await sender.ack()
        await sender.close()
        await asyncio.sleep(0.05)
        assert listener.stray_bytes == 4
    assert too_large[:2] == ("CR", "ORD000123")
    err = parse(too_large[2]).first("ERR")
    assert err is not None and err.value(3) == "104"
    assert after[:2] == ("CA", "C2")


async def test_an_idle_connection_is_closed() -> None:
    async def handler(message: bytes, peer: Peer) -> bytes:
        return ack_of(message)

    async with MllpListener(handler, idle_timeout_seconds=0.2) as listener:
        sender = await RawSender.open(listener.port)
        async with asyncio.timeout(2):
            assert await sender.frames.read_message() is None
        await sender.close()


async def test_mutual_tls_round_trip_and_a_client_without_certificate_is_refused(
    tmp_path: Path,
) -> None:
    ca = make_cert(tmp_path, "test-ca")
    server = make_cert(tmp_path, "listener", issuer=ca)
    client = make_cert(tmp_path, "ehr-client", issuer=ca)
    peers: list[Peer] = []

    async def handler(message: bytes, peer: Peer) -> bytes:
        peers.append(peer)
        return ack_of(message)

    tls = server_tls_context(server.cert, server.key, client_ca_file=ca.cert)
    async with MllpListener(handler, tls=tls) as listener:
        good = client_tls_context(ca.cert, client.cert, client.key)
        sender = await RawSender.open(listener.port, good)
        await sender.send(ORDER)
        assert (await sender.ack())[:2] == ("CA", "ORD000123")
        await sender.close()

        anonymous = client_tls_context(ca.cert)
        with pytest.raises((ssl.SSLError, ConnectionError, AssertionError)):
            refused = await RawSender.open(listener.port, anonymous)
            await refused.send(ORDER)
            await refused.ack(timeout=2)
    assert [p.certificate_subject for p in peers] == ["ehr-client"]
