"""The facade in front of a FHIR PAS payer: EHR -> facade -> gateway -> PAS sandbox payer; the
payer's notification decides the pended case, and casegate relays it to the EHR."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from connectors.fhir_pas.sandbox import FhirPasSandbox
from connectors.fhir_pas.sandbox_auth import SmartClient
from gateway.app import create_app
from gateway.settings import FhirSettings
from tests.gateway.api.support import dev_token, free_port, served
from tests.gateway.fhir.facade_fixtures import EHR_SCOPES
from tests.gateway.fhir.facade_support import (
    FHIR,
    EhrEndpoint,
    ehr_bundle,
    pas_subscription,
    resource,
    review_actions,
)
from tests.gateway.fhir.payer_support import CLIENT_ID, PAYER_ID, PEND_CODE, RULES, pas_settings


@pytest.fixture
async def pas_facade(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway routed to the PAS sandbox (which trusts the gateway's JWKS), as an EHR."""
    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    client = SmartClient(client_id=CLIENT_ID, jwks_url=f"{gateway_url}/.well-known/jwks.json")
    payer = FhirPasSandbox(RULES, [client], hang_seconds=3)
    payer.start()
    settings = pas_settings(tmp_path / "home", database_url, payer, gateway_url, overdue=60)
    app = create_app(settings.model_copy(update={"fhir": FhirSettings(facade_wait_seconds=2)}))
    try:
        async with served(app, dev_token(settings, EHR_SCOPES), port=port, timeout=20) as api:
            yield api
    finally:
        payer.stop()


async def test_a_pas_payer_decision_reaches_the_ehr(pas_facade: httpx.AsyncClient) -> None:
    with EhrEndpoint() as endpoint:
        created = await pas_facade.post(
            "/fhir/Subscription", json=pas_subscription(endpoint.url), headers=FHIR
        )
        assert created.status_code == 201
        bundle = ehr_bundle("PAS-1", payer_id=PAYER_ID, procedure_code=PEND_CODE)
        answer = await pas_facade.post("/fhir/Claim/$submit", json=bundle, headers=FHIR)
        assert answer.status_code == 200, answer.text
        assert review_actions(answer.json()) == ["A4"]  # the payer decides 0.3 s later
        case_id = answer.json()["identifier"]["value"]
        deadline = time.monotonic() + 30
        while not endpoint.received:
            assert time.monotonic() < deadline, "no notification reached the EHR"
            await asyncio.sleep(0.05)
        _, notification = endpoint.received[0]
        focus = notification["entry"][1]["resource"]
        assert review_actions(focus) == ["A1"]
        assert focus["identifier"]["value"] == case_id
        assert resource(focus, "ClaimResponse")["request"]["identifier"]["value"] == "PAS-1"
        case = (await pas_facade.get(f"/v1/cases/{case_id}")).json()
        assert case["status"] == "approved" and case["route"] == "pas"
