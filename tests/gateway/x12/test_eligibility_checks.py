"""An eligibility check through the gateway to the clearinghouse (270/271): settled the same
way as over FHIR, a decision that summarises the answer and the whole result in the history."""

from __future__ import annotations

import json
from typing import Any

from canonical.eligibility import EligibilityResult
from tests.gateway.api.support import EXAMPLES
from tests.gateway.x12.support import SETTLED, LiveX12


async def _check(live: LiveX12, key: str, member_id: str) -> str:
    body: dict[str, Any] = json.loads((EXAMPLES / "eligibility-check.json").read_text())
    body["coverage"]["member_id"] = member_id
    body["service_type_codes"] = ["30", "2"]
    answer = await live.api.post(
        "/v1/eligibility-checks", json=body, headers={"Idempotency-Key": key}
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


async def _result(live: LiveX12, case_id: str) -> EligibilityResult:
    events = await live.events(case_id)
    [kept] = [e for e in events if e["type"] == "case.eligibility_result"]
    return EligibilityResult.model_validate(kept["data"])


async def test_coverage_in_force_settles_the_check_with_its_result(live_x12: LiveX12) -> None:
    case_id = await _check(live_x12, "elig-1", "W123456789")
    case = await live_x12.wait_for(case_id, SETTLED)
    assert case["status"] == "approved"
    result = await _result(live_x12, case_id)
    assert result.coverage_active is True
    assert result.case_id == case_id
    assert result.authorization_required_for == ["2"]
    assert live_x12.clearinghouse.effects(f"{case_id}:eligibility.check") == 1


async def test_coverage_not_in_force_denies_the_check(live_x12: LiveX12) -> None:
    case_id = await _check(live_x12, "elig-2", "INACTIVE-42")
    case = await live_x12.wait_for(case_id, SETTLED)
    assert case["status"] == "denied"
    assert case["decision"]["reason_code"] == "coverage-inactive"
    assert (await _result(live_x12, case_id)).coverage_active is False
