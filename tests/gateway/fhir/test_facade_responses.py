"""The PAS answer for a case in any state, and the patient reference of stored payloads."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from canonical.cases import PriorAuthorizationRequest
from gateway.fhir.facade_responses import response_bundle, stored_request
from gateway.phi import IdentifierHasher
from gateway.store.records import CaseRow
from tests.gateway.api.support import example_request
from tests.gateway.fhir.facade_support import ehr_bundle, review_actions

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _row(status: str, decision: dict[str, Any] | None) -> CaseRow:
    return CaseRow(
        id="case-1",
        tenant="default",
        type="prior_authorization",
        status=status,
        version=3,
        payer_id="ACMEHP",
        urgency="standard",
        route="acme",
        payload=example_request(),
        decision=decision,
        created_at=NOW,
        updated_at=NOW,
        decided_at=None,
    )


@pytest.mark.parametrize(
    ("status", "decision", "actions"),
    [
        ("draft", None, ["A4"]),
        ("submitted", None, ["A4"]),
        ("pended", {"outcome": "pended", "payer_reference": "P1"}, ["A4"]),
        ("approved", {"outcome": "approved", "auth_number": "AUTH1"}, ["A1"]),
        ("denied", {"outcome": "denied", "reason_code": "N", "reason_text": "No"}, ["A3"]),
        ("more_info_requested", None, ["CT"]),
        ("cancelled", None, ["C"]),
    ],
)
def test_every_state_is_answered_per_item(
    status: str, decision: dict[str, Any] | None, actions: list[str]
) -> None:
    request = stored_request(json.dumps(ehr_bundle("CLM-9")).encode())
    claim = {"system": "urn:ehr", "value": "CLM-9"}
    bundle = response_bundle(_row(status, decision), request, claim, now=NOW)
    assert review_actions(bundle) == actions
    response = bundle["entry"][0]["resource"]
    assert response["request"]["identifier"] == claim
    if decision and decision.get("auth_number"):
        assert response["preAuthRef"] == decision["auth_number"]


def test_a_case_held_before_any_payer_saw_it_is_pended() -> None:
    request = stored_request(json.dumps(ehr_bundle("CLM-9")).encode())
    held = replace(_row("more_info_requested", None), route=None)
    bundle = response_bundle(held, request, {"system": "urn:ehr", "value": "CLM-9"}, now=NOW)
    assert review_actions(bundle) == ["A4"]


def test_stored_payload_gives_the_same_patient_reference() -> None:
    hasher = IdentifierHasher(bytes(32))
    request = PriorAuthorizationRequest.model_validate(example_request())
    assert hasher.stored_patient_ref(request.model_dump(mode="json")) == hasher.patient_ref(request)
    assert hasher.stored_patient_ref({"supplier_id": "S1"}) is None
