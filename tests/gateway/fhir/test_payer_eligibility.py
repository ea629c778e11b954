"""An eligibility check through the gateway to the PAS payer: the case settles with a decision
that summarises the payer's answer, and the whole canonical result is kept in its history."""

from __future__ import annotations

from tests.gateway.fhir.payer_support import PAYER_ID, PasGateway


async def test_coverage_in_force_settles_the_check_with_its_result(notified: PasGateway) -> None:
    case_id = await notified.check_eligibility("elig-1", "W123456789", PAYER_ID)
    case = await notified.wait_for(case_id, "approved")
    assert case["route"] == "pas"
    result = await notified.eligibility_result(case_id)
    assert result.coverage_active is True
    assert result.case_id == case_id
    assert result.member_id == "W123456789"
    assert result.authorization_required_for == ["2"]
    assert [b.service_type_codes for b in result.benefits] == [["30"], ["2"]]
    assert notified.payer.effects(f"{case_id}:eligibility.check") == 1


async def test_coverage_not_in_force_denies_the_check(notified: PasGateway) -> None:
    case_id = await notified.check_eligibility("elig-2", "INACTIVE-42", PAYER_ID)
    case = await notified.wait_for(case_id, "denied")
    assert case["decision"]["reason_code"] == "coverage-inactive"
    result = await notified.eligibility_result(case_id)
    assert result.coverage_active is False
    assert result.authorization_required_for == []
