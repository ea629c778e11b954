"""A PAS bundle's case reaches an X12-only payer as a 278 and comes back as a ClaimResponse."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from canonical.cases import PriorAuthorizationRequest
from canonical.decisions import Decision, DecisionOutcome, ReviewAction
from mappings.fhir_pas.request_builder import build_request_bundle
from mappings.fhir_pas.request_reader import read_request_bundle
from mappings.fhir_pas.response import read_response_bundle, render_response_bundle
from tests.connectors.connector_test_support import EXAMPLE_CASE
from tests.gateway.x12.support import SETTLED, LiveX12

DIAGNOSES = [f"M17.{n}" for n in (0, 10, 11, 12, 2, 30, 31, 32, 4, 5, 9)] + [
    "M25.561",
    "M25.562",
    "M79.604",
]


def _pas_bundle(member_id: str = "W123456789") -> dict[str, Any]:
    """A PAS request bundle as an EHR would send it, with more diagnoses than a 278 carries."""
    body = copy.deepcopy(EXAMPLE_CASE)
    body["coverage"]["member_id"] = member_id
    body["diagnoses"] = [{"code": code} for code in DIAGNOSES]
    request = PriorAuthorizationRequest.model_validate(body)
    return build_request_bundle("ehr-order-1", request, created=datetime.now(UTC))


async def test_a_pas_case_goes_out_as_a_278_and_returns_as_a_claim_response(
    live_x12: LiveX12,
) -> None:
    _, request = read_request_bundle(_pas_bundle())
    case_id = await live_x12.submit(request.model_dump(mode="json"), "pas-bridge-1")
    case = await live_x12.wait_for(case_id, SETTLED)
    assert case["status"] == "approved"
    assert case["route"] == "clearinghouse"
    assert live_x12.clearinghouse.effects(f"{case_id}:prior_auth.submit") == 1

    events = await live_x12.events(case_id)
    types = [e["type"] for e in events]
    assert types == ["case.created", "case.submitted", "case.left_out", "case.approved"]
    left_out = events[2]["data"]
    assert left_out["wire_format"] == "x12"
    assert left_out["left_out"] == [
        {"pointer": "/diagnoses/12", "reason": "a 278 carries at most 12 diagnoses"},
        {"pointer": "/diagnoses/13", "reason": "a 278 carries at most 12 diagnoses"},
    ]

    decision = Decision.model_validate(case["decision"])
    assert decision.auth_number
    bundle = render_response_bundle(
        decision, case_id=case_id, request=request, created=datetime.now(UTC)
    )
    assert bundle["entry"][0]["resource"]["resourceType"] == "ClaimResponse"
    assert bundle["entry"][0]["resource"]["preAuthRef"] == decision.auth_number
    read_back = read_response_bundle(bundle)
    assert read_back.outcome is DecisionOutcome.approved
    assert [(i.sequence, i.action) for i in read_back.items] == [(1, ReviewAction.certified)]


async def test_a_denial_keeps_its_reason_on_the_way_back(live_x12: LiveX12) -> None:
    _, request = read_request_bundle(_pas_bundle(member_id="DENY-7"))
    case_id = await live_x12.submit(request.model_dump(mode="json"), "pas-bridge-deny")
    case = await live_x12.wait_for(case_id, SETTLED)
    assert case["status"] == "denied"
    decision = Decision.model_validate(case["decision"])
    bundle = render_response_bundle(
        decision, case_id=case_id, request=request, created=datetime.now(UTC)
    )
    read_back = read_response_bundle(bundle)
    assert read_back.outcome is DecisionOutcome.denied
    assert [(i.action, i.reason_code) for i in read_back.items] == [
        (ReviewAction.not_certified, "MN")
    ]


async def test_a_pended_278_is_followed_up_by_inquiry_to_its_decision(live_x12: LiveX12) -> None:
    body = copy.deepcopy(EXAMPLE_CASE)
    body["service_lines"][0]["procedure_code"] = "70553"
    case_id = await live_x12.submit(body, "pend-278")
    case = await live_x12.wait_for(case_id, {"approved"})
    types = [e["type"] for e in await live_x12.events(case_id)]
    assert types == ["case.created", "case.submitted", "case.pended", "case.approved"]
    assert case["decision"]["payer_reference"].startswith("CH")
    assert live_x12.clearinghouse.effects(f"{case_id}:prior_auth.submit") == 1
