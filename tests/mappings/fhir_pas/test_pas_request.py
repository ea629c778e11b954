"""PAS request bundles against golden files, both ways, and the canonical round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canonical.cases import PriorAuthorizationRequest, Urgency
from mappings.conversions import convert
from mappings.fhir_pas import build_request_bundle, read_request_bundle

GOLDEN = Path(__file__).parent / "golden"
CREATED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
CASES = [("dependent-drug-attachment", "case-0002"), ("prior-authorization", "case-0001")]


def _case(name: str) -> PriorAuthorizationRequest:
    return PriorAuthorizationRequest.model_validate_json((GOLDEN / f"{name}.case.json").read_text())


def _golden(name: str) -> Any:
    return json.loads((GOLDEN / f"{name}.bundle.json").read_text())


@pytest.mark.parametrize(("name", "case_id"), CASES)
def test_bundle_matches_golden(name: str, case_id: str) -> None:
    assert build_request_bundle(case_id, _case(name), created=CREATED) == _golden(name)


@pytest.mark.parametrize(("name", "case_id"), CASES)
def test_golden_bundle_reads_back_to_the_case(name: str, case_id: str) -> None:
    assert read_request_bundle(_golden(name)) == (case_id, _case(name))


def test_bundle_shape_follows_pas() -> None:
    bundle = _golden("dependent-drug-attachment")
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    claim = bundle["entry"][0]["resource"]
    assert kinds[0] == "Claim" and kinds.count("Claim") == 1
    assert claim["use"] == "preauthorization"
    assert all(entry["fullUrl"].startswith("urn:uuid:") for entry in bundle["entry"])
    assert {"Patient", "Coverage", "Organization", "Condition", "DocumentReference"} <= set(kinds)
    assert kinds.count("MedicationRequest") == 1 and kinds.count("ServiceRequest") == 1
    assert claim["priority"]["coding"][0]["code"] == "stat"


def test_convert_both_ways_through_the_registry() -> None:
    envelope = {
        "case_id": "case-0002",
        "created": CREATED.isoformat(),
        "payload": json.loads((GOLDEN / "dependent-drug-attachment.case.json").read_text()),
    }
    bundle = convert(json.dumps(envelope).encode(), "canonical", "fhir-pas")
    assert json.loads(bundle) == _golden("dependent-drug-attachment")
    back = json.loads(convert(bundle, "fhir-pas", "canonical"))
    assert back["case_id"] == "case-0002"
    assert PriorAuthorizationRequest.model_validate(back["payload"]) == _case(
        "dependent-drug-attachment"
    )


@settings(max_examples=40, deadline=None)
@given(
    urgency=st.sampled_from(list(Urgency)),
    units=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(9999), places=3),
    reference=st.none() | st.from_regex(r"[A-Za-z0-9\-]{1,40}", fullmatch=True),
    drop_optional=st.booleans(),
)
def test_round_trip_keeps_everything(
    urgency: Urgency, units: Decimal, reference: str | None, drop_optional: bool
) -> None:
    base = _case("dependent-drug-attachment")
    lines = [line.model_copy(update={"units": units}) for line in base.service_lines]
    update: dict[str, Any] = {
        "urgency": urgency,
        "external_reference": reference,
        "service_lines": lines,
    }
    if drop_optional:
        update |= {"attachments": [], "notes": None}
    case = base.model_copy(update=update)
    case = PriorAuthorizationRequest.model_validate(case.model_dump())
    bundle = json.loads(json.dumps(build_request_bundle("case-x", case, created=CREATED)))
    assert read_request_bundle(bundle) == ("case-x", case)
