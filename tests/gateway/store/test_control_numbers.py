"""X12 control numbers and inbound interchange receipts, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from gateway.store.control_numbers import (
    MAX_CONTROL_NUMBER,
    EnvelopeLevel,
    next_control_number,
    next_envelope_numbers,
    record_inbound_interchange,
)
from gateway.store.engine import Store, open_store
from gateway.store.schema import x12_control_numbers
from tests.gateway.store.conftest import DATA_KEY


async def test_numbers_count_up_per_partner_and_level(store: Store) -> None:
    async with store.begin() as conn:
        first = await next_envelope_numbers(conn, "ACMEHP", transactions=2)
        second = await next_envelope_numbers(conn, "ACMEHP")
        other = await next_control_number(conn, "OTHERHP", EnvelopeLevel.interchange)
    assert (first.interchange, first.group, first.transactions) == (1, 1, (1, 2))
    assert (second.interchange, second.group, second.transactions) == (2, 2, (3,))
    assert other == 1


async def test_numbers_survive_a_reopened_store(store: Store, store_url: str) -> None:
    async with store.begin() as conn:
        await next_control_number(conn, "ACMEHP", EnvelopeLevel.interchange)
    reopened = await open_store(store_url, DATA_KEY)
    try:
        async with reopened.begin() as conn:
            number = await next_control_number(conn, "ACMEHP", EnvelopeLevel.interchange)
    finally:
        await reopened.close()
    assert number == 2


async def test_a_rolled_back_reservation_gives_its_number_back(store: Store) -> None:
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with store.begin() as conn:
            await next_control_number(conn, "ACMEHP", EnvelopeLevel.group)
            raise Abandoned
    async with store.begin() as conn:
        assert await next_control_number(conn, "ACMEHP", EnvelopeLevel.group) == 1


async def test_concurrent_callers_never_share_a_number(store: Store, store_url: str) -> None:
    """Two stores stand for two gateway replicas on one database."""
    replica = await open_store(store_url, DATA_KEY)

    async def take(target: Store) -> int:
        async with target.begin() as conn:
            return await next_control_number(conn, "ACMEHP", EnvelopeLevel.interchange)

    try:
        numbers = await asyncio.gather(*(take(s) for _ in range(15) for s in (store, replica)))
    finally:
        await replica.close()
    assert sorted(numbers) == list(range(1, 31))


async def test_the_counter_wraps_after_nine_digits(store: Store) -> None:
    async with store.begin() as conn:
        await next_control_number(conn, "ACMEHP", EnvelopeLevel.transaction)
        await conn.execute(sa.update(x12_control_numbers).values(last_number=MAX_CONTROL_NUMBER))
        assert await next_control_number(conn, "ACMEHP", EnvelopeLevel.transaction) == 1


async def test_an_interchange_is_recorded_once_per_sender(store: Store) -> None:
    async with store.begin() as conn:
        assert await record_inbound_interchange(
            conn, sender_qualifier="ZZ", sender_id="ACMEHP         ", control_number="000000301"
        )
        assert not await record_inbound_interchange(
            conn, sender_qualifier="ZZ", sender_id="ACMEHP", control_number="000000301"
        )
        assert await record_inbound_interchange(
            conn, sender_qualifier="ZZ", sender_id="OTHERHP", control_number="000000301"
        )
        assert await record_inbound_interchange(
            conn, sender_qualifier="ZZ", sender_id="ACMEHP", control_number="000000302"
        )


async def test_concurrent_receipts_of_one_interchange_accept_exactly_one(store: Store) -> None:
    async def receive() -> bool:
        async with store.begin() as conn:
            return await record_inbound_interchange(
                conn, sender_qualifier="01", sender_id="123456789", control_number="000000042"
            )

    outcomes = await asyncio.gather(*(receive() for _ in range(10)))
    assert sorted(outcomes) == [False] * 9 + [True]
