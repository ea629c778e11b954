import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from canonical.cases import PAYLOAD_MODELS, CaseType, PriorAuthorizationRequest, payer_of

EXAMPLES = Path(__file__).parents[2] / "examples"
FILES = {
    CaseType.prior_authorization: "prior-authorization.json",
    CaseType.eligibility_check: "eligibility-check.json",
    CaseType.claim_status: "claim-status.json",
    CaseType.denial_appeal: "denial-appeal.json",
    CaseType.invoice_exception: "invoice-exception.json",
}


@pytest.mark.parametrize("case_type", list(CaseType))
def test_each_example_validates_and_round_trips(case_type: CaseType) -> None:
    model = PAYLOAD_MODELS[case_type]
    payload = model.model_validate_json((EXAMPLES / FILES[case_type]).read_text())
    assert model.model_validate_json(payload.model_dump_json()) == payload


def _example() -> dict:  # type: ignore[type-arg]
    return json.loads((EXAMPLES / "prior-authorization.json").read_text())  # type: ignore[no-any-return]


def _errors(body: dict) -> list[tuple[tuple[str | int, ...], str]]:  # type: ignore[type-arg]
    with pytest.raises(ValidationError) as caught:
        PriorAuthorizationRequest.model_validate(body)
    return [(e["loc"], e["msg"]) for e in caught.value.errors()]


def test_unknown_fields_are_refused_with_their_location() -> None:
    body = _example()
    body["patient"]["ssn"] = "123-45-6789"
    assert _errors(body)[0][0] == ("patient", "ssn")


def test_bad_npi_is_located() -> None:
    body = _example()
    body["requesting_provider"]["npi"] = "1260181594"
    [(loc, msg)] = _errors(body)
    assert loc == ("requesting_provider", "npi")
    assert "NPI" in msg


def test_reversed_period_is_refused() -> None:
    body = _example()
    body["service_lines"][0]["service_period"] = {"start": "2026-12-14", "end": "2026-12-01"}
    [(loc, msg)] = _errors(body)
    assert loc == ("service_lines", 0, "service_period")
    assert "before its start" in msg


def test_duplicate_line_sequences_are_refused() -> None:
    body = _example()
    body["service_lines"].append(dict(body["service_lines"][0]))
    assert "used twice" in _errors(body)[0][1]


def test_a_dependent_needs_a_subscriber() -> None:
    body = _example()
    body["coverage"]["relationship"] = "child"
    assert "subscriber" in _errors(body)[0][1]


def test_routing_key() -> None:
    payload = PriorAuthorizationRequest.model_validate(_example())
    assert payer_of(payload) == "ACMEHP"
