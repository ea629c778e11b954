"""An eligibility check through the gateway to the PAS payer: the case settles with a decision
that summarises the payer's answer, and the whole canonical result is kept in its history."""

from __future__ import annotations

import json
from typing import Any

from canonical.eligibility import EligibilityResult
from tests.gateway.api.support import EXAMPLES
from tests.gateway.fhir.payer_support import PAYER_ID, PasGateway


async def _check(live: PasGateway, key: str, member_id: str) -> str:
    body: dict[str, Any] = json.loads((EXAMPLES / "eligibility-check.json").read_text())
    body["payer"]["id"] = PAYER_ID
    body["coverage"]["member_id"] = member_id
    body["service_type_codes"] = ["30", "2"]
    answer = await live.api.post(
        "/v1/eligibility-checks", json=body, headers={"Idempotency-Key": key}
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


async def _result(live: PasGateway, case_id: str) -> EligibilityResult:
    events = await live.events(case_id)
    [kept] = [e for e in events if e["type"] == "case.eligibility_result"]
    return EligibilityResult.model_validate(kept["data"])


async def test_coverage_in_force_settles_the_check_with_its_result(notified: PasGateway) -> None:
    case_id = await _check(notified, "elig-1", "W123456789")
    case = await notified.wait_for(case_id, "approved")
    assert case["route"] == "pas"
    result = await _result(notified, case_id)
    assert result.coverage_active is True
    assert result.case_id == case_id
    assert result.member_id == "W123456789"
    assert result.authorization_required_for == ["2"]
    assert [b.service_type_codes for b in result.benefits] == [["30"], ["2"]]
    assert notified.payer.effects(f"{case_id}:eligibility.check") == 1


async def test_coverage_not_in_force_denies_the_check(notified: PasGateway) -> None:
    case_id = await _check(notified, "elig-2", "INACTIVE-42")
    case = await notified.wait_for(case_id, "denied")
    assert case["decision"]["reason_code"] == "coverage-inactive"
    result = await _result(notified, case_id)
    assert result.coverage_active is False
    assert result.authorization_required_for == []
