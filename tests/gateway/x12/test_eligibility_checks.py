"""An eligibility check through the gateway to the clearinghouse (270/271): settled the same
way as over FHIR, a decision that summarises the answer and the whole result in the history."""

from __future__ import annotations

from tests.gateway.x12.support import SETTLED, LiveX12


async def test_coverage_in_force_settles_the_check_with_its_result(live_x12: LiveX12) -> None:
    case_id = await live_x12.check_eligibility("elig-1", "W123456789")
    case = await live_x12.wait_for(case_id, SETTLED)
    assert case["status"] == "approved"
    result = await live_x12.eligibility_result(case_id)
    assert result.coverage_active is True
    assert result.case_id == case_id
    assert result.authorization_required_for == ["2"]
    assert live_x12.clearinghouse.effects(f"{case_id}:eligibility.check") == 1


async def test_coverage_not_in_force_denies_the_check(live_x12: LiveX12) -> None:
    case_id = await live_x12.check_eligibility("elig-2", "INACTIVE-42")
    case = await live_x12.wait_for(case_id, SETTLED)
    assert case["status"] == "denied"
    assert case["decision"]["reason_code"] == "coverage-inactive"
    assert (await live_x12.eligibility_result(case_id)).coverage_active is False
