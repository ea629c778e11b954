"""The clearinghouse's ISA13s from the persisted per-partner counter, on SQLite and PostgreSQL."""

from __future__ import annotations

from gateway.store.control_numbers import EnvelopeLevel, next_control_number
from gateway.store.engine import Store
from gateway.x12.control_numbers import StoreControlNumbers
from tests.gateway.store.conftest import store, store_url

__all__ = ["store", "store_url"]


async def test_a_request_draws_from_the_counter_once(store: Store) -> None:
    numbers = StoreControlNumbers(store)
    first = await numbers.number_for("ZZ:ACME", "key-1")
    assert await numbers.number_for("ZZ:ACME", "key-1") == first
    assert await numbers.number_for("ZZ:ACME", "key-2") == first + 1
    async with store.begin() as conn:
        after = await next_control_number(conn, "ZZ:ACME", EnvelopeLevel.interchange)
    assert after == first + 2
