"""Canonical eligibility <-> CoverageEligibilityRequest / Response: goldens both ways, and the
result reads back to what was rendered (the same canonical model an X12 271 maps to)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from canonical.cases import EligibilityCheckRequest
from canonical.eligibility import EligibilityResult
from mappings.fhir_pas import PasMappingError
from mappings.fhir_pas.eligibility import (
    build_eligibility_request,
    eligibility_member_id,
    read_eligibility_response,
    render_eligibility_response,
)

GOLDEN = Path(__file__).parent / "golden" / "eligibility"
CREATED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _load(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text())


def test_case_builds_the_golden_request() -> None:
    case = EligibilityCheckRequest.model_validate(_load("eligibility.case.json"))
    assert build_eligibility_request("case-0003", case, CREATED) == _load(
        "eligibility.request.json"
    )
    assert eligibility_member_id(_load("eligibility.request.json")) == case.coverage.member_id


@pytest.mark.parametrize("name", ["in-force", "inactive"])
def test_answers_render_and_read_to_their_goldens(name: str) -> None:
    result = EligibilityResult.model_validate(_load(f"{name}.result.json"))
    # What the payer fills in from the request it answers, the rest from its own records.
    said = result.model_copy(update={"case_id": None, "member_id": None, "as_of": None})
    response = render_eligibility_response(
        _load("eligibility.request.json"), said, reference="ELG00000001", created=CREATED
    )
    assert response == _load(f"{name}.response.json")
    assert read_eligibility_response(response) == result


def test_authorization_flags_become_the_services_needing_it() -> None:
    result = read_eligibility_response(_load("in-force.response.json"))
    assert result.coverage_active is True
    assert result.authorization_required_for == ["2", "73"]
    assert [b.in_network for b in result.benefits] == [True, None]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"resourceType": "Claim"}, "CoverageEligibilityResponse"),
        ({"outcome": "error"}, "CoverageEligibilityResponse.outcome"),
        ({"insurance": [{"coverage": {"display": "c"}}]}, "CoverageEligibilityResponse.insurance"),
        ({"status": 7}, "CoverageEligibilityResponse.status"),
        (
            {
                "insurance": [
                    {
                        "coverage": {"display": "c"},
                        "inforce": True,
                        "benefitPeriod": {"end": "2026-12-31"},
                    }
                ]
            },
            "CoverageEligibilityResponse.insurance[0].benefitPeriod",
        ),
    ],
)
def test_unusable_answers_are_refused_at_the_element(change: dict[str, Any], where: str) -> None:
    response = _load("inactive.response.json") | change
    with pytest.raises(PasMappingError) as caught:
        read_eligibility_response(response)
    assert caught.value.issues[0].expression.startswith(where)
    assert "W123456789" not in str(caught.value.operation_outcome())
