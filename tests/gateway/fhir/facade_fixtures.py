"""The facade tests' gateway: workers running, routed to the payer sandbox, called by an EHR.

Test modules import the fixtures from here (the directory's conftest belongs to the payer side).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.payer_rest.sandbox import PayerRestSandbox
from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.settings import FhirSettings
from tests.gateway.api.support import CaseApi, dev_token, served
from tests.gateway.dispatch.conftest import payer, routed_settings
from tests.gateway.fhir.facade_support import FHIR

EHR_SCOPES = (
    "cases:read",
    "system/Claim.write",
    "system/ClaimResponse.read",
    "system/Subscription.read",
    "system/Subscription.write",
)
MAX_BUNDLE_BYTES = 2_000_000
# Test modules import `facade` and the payer sandbox it runs against from here.
__all__ = ["EHR_SCOPES", "MAX_BUNDLE_BYTES", "Facade", "facade", "payer"]


@dataclass
class Facade(CaseApi):
    runtime: Runtime
    payer: PayerRestSandbox

    async def submit(self, bundle: Any, **kwargs: Any) -> httpx.Response:
        return await self.api.post("/fhir/Claim/$submit", json=bundle, headers=FHIR, **kwargs)

    async def wait_until(self, condition: Callable[[], Any], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "the condition never held"
            await asyncio.sleep(0.05)


@pytest.fixture
async def facade(
    payer: PayerRestSandbox,
    database_url: str,
    tmp_path: Path,
) -> AsyncIterator[Facade]:
    settings = routed_settings(
        tmp_path, database_url, api_url=payer.base_url, token_url=f"{payer.base_url}/oauth/token"
    )
    fhir = FhirSettings(facade_wait_seconds=3, max_bundle_bytes=MAX_BUNDLE_BYTES)
    app = create_app(settings.model_copy(update={"fhir": fhir}))
    async with served(app, dev_token(settings, EHR_SCOPES), timeout=30) as api:
        yield Facade(api=api, runtime=app.state["runtime"], payer=payer)
