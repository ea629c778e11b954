"""A JWKS URL publishing the test client's keys, and the PAS sandbox trusting it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.fhir_pas.sandbox_auth import SmartClient
from connectors.loopback import LoopbackServer
from tests.connectors.fhir_pas.support import CLIENT_ID, jwks_app


@pytest.fixture(scope="session")
def jwks_url(signing_keys: dict[str, tuple[Path, dict[str, Any]]]) -> Iterator[str]:
    server = LoopbackServer(jwks_app([public for _, public in signing_keys.values()]))
    base_url = server.start()
    yield f"{base_url}/.well-known/jwks.json"
    server.stop()


@pytest.fixture(scope="session")
def smart_clients(jwks_url: str) -> list[SmartClient]:
    return [SmartClient(client_id=CLIENT_ID, jwks_url=jwks_url)]
