"""ISA13s drawn once per request and given back unchanged to its resends."""

from __future__ import annotations

import asyncio

from connectors.x12_clearinghouse.control_numbers import MemoryControlNumbers
from mappings.x12.envelope_builder import MAX_CONTROL_NUMBER


async def test_a_resend_keeps_its_number_and_new_requests_count_up() -> None:
    numbers = MemoryControlNumbers(start=41)
    first = await numbers.number_for("ZZ:ACME", "key-1")
    second = await numbers.number_for("ZZ:ACME", "key-2")
    assert (first, second) == (41, 42)
    assert await numbers.number_for("ZZ:ACME", "key-1") == first


async def test_partners_count_apart() -> None:
    numbers = MemoryControlNumbers(start=7)
    await numbers.number_for("ZZ:ACME", "key-1")
    assert await numbers.number_for("ZZ:OTHER", "key-1") == 7
    assert await numbers.number_for("ZZ:ACME", "key-2") == 8


async def test_the_counter_wraps_after_nine_digits() -> None:
    numbers = MemoryControlNumbers(start=MAX_CONTROL_NUMBER)
    assert await numbers.number_for("ZZ:ACME", "last") == MAX_CONTROL_NUMBER
    assert await numbers.number_for("ZZ:ACME", "next") == 1


async def test_concurrent_first_tries_of_one_request_share_a_number() -> None:
    numbers = MemoryControlNumbers(start=1)
    drawn = await asyncio.gather(*(numbers.number_for("ZZ:ACME", "key") for _ in range(5)))
    assert set(drawn) == {1}
    assert await numbers.number_for("ZZ:ACME", "other") == 2
