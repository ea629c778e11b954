"""Audit trail fixtures on each store: a migrated store, and a running gateway (workers off)
whose audit table the tests read back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.store.engine import Store, open_store
from gateway.store.migrate import upgrade
from tests.gateway.audit.support import DATA_KEY


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    await asyncio.to_thread(upgrade, database_url)
    opened = await open_store(database_url, DATA_KEY)
    yield opened
    await opened.close()
