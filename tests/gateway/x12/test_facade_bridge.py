"""EHR -> PAS facade ($submit) -> 278 at the clearinghouse -> PAS ClaimResponse, both stores."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from canonical.cases import PriorAuthorizationRequest
from connectors.x12_clearinghouse.sandbox import X12ClearinghouseSandbox
from gateway.app import create_app
from gateway.settings import FhirSettings
from mappings.fhir_pas import build_request_bundle
from tests.connectors.connector_test_support import EXAMPLE_CASE
from tests.gateway.api.support import dev_token, served
from tests.gateway.fhir.facade_fixtures import EHR_SCOPES
from tests.gateway.fhir.facade_support import EHR_CLAIM_SYSTEM, FHIR, resource, review_actions
from tests.gateway.x12.support import clearinghouse_settings
from tests.gateway.x12.test_pas_bridge import DIAGNOSES


def _ehr_bundle(claim_number: str) -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLE_CASE)
    body["diagnoses"] = [{"code": code} for code in DIAGNOSES]
    request = PriorAuthorizationRequest.model_validate(body)
    bundle = build_request_bundle(f"ehr-{claim_number}", request, created=datetime.now(UTC))
    bundle["identifier"] = {"system": EHR_CLAIM_SYSTEM, "value": f"bundle-{claim_number}"}
    bundle["entry"][0]["resource"]["identifier"] = [
        {"system": EHR_CLAIM_SYSTEM, "value": claim_number}
    ]
    return bundle


@pytest.fixture
async def ehr_api(
    clearinghouse: X12ClearinghouseSandbox, database_url: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = clearinghouse_settings(tmp_path, database_url, clearinghouse)
    app = create_app(settings.model_copy(update={"fhir": FhirSettings(facade_wait_seconds=5)}))
    async with served(app, dev_token(settings, EHR_SCOPES), timeout=30) as api:
        yield api


async def test_a_pas_submit_is_answered_from_the_278_response(
    ehr_api: httpx.AsyncClient, clearinghouse: X12ClearinghouseSandbox
) -> None:
    answer = await ehr_api.post("/fhir/Claim/$submit", json=_ehr_bundle("CLM-X12"), headers=FHIR)
    assert answer.status_code == 200, answer.text
    bundle = answer.json()
    assert review_actions(bundle) == ["A1"]
    claim_response = resource(bundle, "ClaimResponse")
    assert claim_response["outcome"] == "complete"
    assert claim_response["preAuthRef"].startswith("X")  # the clearinghouse payer's number
    case_id = str(bundle["identifier"]["value"])
    assert clearinghouse.effects(f"{case_id}:prior_auth.submit") == 1
    events = (await ehr_api.get(f"/v1/cases/{case_id}/events")).json()
    [left_out] = [e["data"] for e in events if e["type"] == "case.left_out"]
    assert [item["pointer"] for item in left_out["left_out"]] == ["/diagnoses/12", "/diagnoses/13"]
