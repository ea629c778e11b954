"""Bad PAS input: an OperationOutcome naming the element by FHIRPath, never its value."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mappings.conversions import ConversionError, convert
from mappings.fhir_pas import PasMappingError, read_request_bundle, read_response_bundle

GOLDEN = Path(__file__).parent / "golden"
CLAIM = "Bundle.entry[0].resource"
PHI = ("Robin", "Sampleson", "Jordan", "2015-08-30", "ACM-55501-02", "Step therapy")


def _bundle() -> Any:
    return json.loads((GOLDEN / "dependent-drug-attachment.bundle.json").read_text())


def _claim(bundle: Any) -> Any:
    return bundle["entry"][0]["resource"]


def _set(bundle: Any, change: Callable[[Any], None]) -> Any:
    change(bundle)
    return bundle


def _index(bundle: Any, kind: str) -> int:
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    return kinds.index(kind)


def _drop(bundle: Any, kind: str) -> None:
    del bundle["entry"][_index(bundle, kind)]


def _strip(resource: Any, *keys: str) -> None:
    for key in keys:
        del resource[key]


def _second_claim(bundle: Any) -> None:
    extra = json.loads(json.dumps(bundle["entry"][0]))
    extra["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-000000000001"
    bundle["entry"].append(extra)


CASES: list[tuple[str, Callable[[Any], None], str]] = [
    ("use", lambda b: _claim(b).update(use="claim"), f"{CLAIM}.use"),
    ("two claims", _second_claim, "Bundle.entry[11].resource"),
    (
        "claim not first",
        lambda b: b["entry"].insert(0, b["entry"].pop(1)),
        "Bundle.entry[0].resource",
    ),
    ("no coverage", lambda b: _drop(b, "Coverage"), f"{CLAIM}.insurance[0].coverage.reference"),
    (
        "unknown resource",
        lambda b: b["entry"][1]["resource"].update(resourceType="Widget"),
        "Bundle.entry[1].resource",
    ),
    (
        "model type error",
        lambda b: _claim(b)["item"][0].update(sequence="first"),
        f"{CLAIM}.item[0].sequence",
    ),
    ("bad fullUrl", lambda b: b["entry"][1].update(fullUrl="patient-1"), "Bundle.entry[1].fullUrl"),
    ("not a collection", lambda b: b.update(type="transaction"), "Bundle.type"),
    (
        "bad NPI",
        lambda b: b["entry"][5]["resource"]["identifier"][0].update(value="1234567890"),
        "Bundle.entry[5].resource.identifier",
    ),
    (
        "no member id",
        lambda b: _strip(b["entry"][4]["resource"], "subscriberId", "identifier"),
        "Bundle.entry[4].resource.subscriberId",
    ),
    ("no diagnosis", lambda b: _claim(b).pop("diagnosis"), f"{CLAIM}.diagnosis"),
]


@pytest.mark.parametrize(("label", "change", "expression"), CASES, ids=[c[0] for c in CASES])
def test_request_errors_name_the_element(
    label: str, change: Callable[[Any], None], expression: str
) -> None:
    bundle = _set(_bundle(), change)
    with pytest.raises(PasMappingError) as caught:
        read_request_bundle(bundle)
    outcome = caught.value.operation_outcome()
    assert outcome["resourceType"] == "OperationOutcome"
    expressions = [e for issue in outcome["issue"] for e in issue["expression"]]
    assert expression in expressions, (label, expressions)
    assert all(i["severity"] == "error" and i["code"] for i in outcome["issue"])
    text = json.dumps(outcome)
    assert not any(value in text for value in PHI)


@pytest.mark.parametrize(
    "data",
    [b"not json", b"[]", b'{"resourceType": "Patient"}', b'{"resourceType": "Bundle"}'],
)
def test_conversion_rejects_with_an_operation_outcome(data: bytes) -> None:
    with pytest.raises(ConversionError) as caught:
        convert(data, "fhir-pas", "canonical")
    assert caught.value.rejection is not None
    outcome = json.loads(caught.value.rejection)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"][0].startswith("Bundle")
    assert caught.value.errors[0].location == outcome["issue"][0]["expression"][0]


def test_invalid_canonical_input_is_refused_with_its_pointer() -> None:
    payload = json.loads((GOLDEN / "dependent-drug-attachment.case.json").read_text())
    payload["service_lines"][0]["procedure_code"] = "nope"
    with pytest.raises(ConversionError) as caught:
        convert(json.dumps(payload).encode(), "canonical", "fhir-pas")
    assert caught.value.rejection is not None
    issues = json.loads(caught.value.rejection)["issue"]
    assert issues[0]["expression"] == ["/service_lines/0/procedure_code"]


def test_response_without_review_action_is_refused() -> None:
    bundle = json.loads((GOLDEN / "approved.response.json").read_text())
    del bundle["entry"][0]["resource"]["item"][1]["adjudication"][0]["extension"]
    with pytest.raises(PasMappingError) as caught:
        read_response_bundle(bundle)
    assert caught.value.issues[0].expression == f"{CLAIM}.item[1].adjudication"


def test_response_with_unknown_review_action_is_refused() -> None:
    bundle = json.loads((GOLDEN / "approved.response.json").read_text())
    review = bundle["entry"][0]["resource"]["item"][0]["adjudication"][0]["extension"][0]
    review["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = "ZZ"
    with pytest.raises(PasMappingError) as caught:
        read_response_bundle(bundle)
    assert caught.value.issues[0].code == "code-invalid"
    assert caught.value.issues[0].expression == f"{CLAIM}.item[0].adjudication[0].extension[0]"


def test_response_period_ending_before_it_starts_is_refused() -> None:
    bundle = json.loads((GOLDEN / "approved.response.json").read_text())
    bundle["entry"][0]["resource"]["preAuthPeriod"] = {"start": "2027-01-01", "end": "2026-01-01"}
    with pytest.raises(PasMappingError) as caught:
        read_response_bundle(bundle)
    assert caught.value.issues[0].expression == f"{CLAIM}.preAuthPeriod"
