"""Fixtures for the payer side of FHIR PAS: a live gateway following up through the sandbox.

(The facade's fixtures live in facade_fixtures.py, imported by its test modules.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.gateway.fhir.payer_support import PasGateway, live_pas_gateway


@pytest.fixture
async def notified(database_url: str, tmp_path: Path) -> AsyncIterator[PasGateway]:
    """Notifications drive follow-up; reconciliation would wait a minute."""
    async for live in live_pas_gateway(tmp_path, database_url, overdue=60):
        yield live


@pytest.fixture
async def reconciling(database_url: str, tmp_path: Path) -> AsyncIterator[PasGateway]:
    """A notification is overdue after half a second."""
    async for live in live_pas_gateway(tmp_path, database_url, overdue=0.5):
        yield live
