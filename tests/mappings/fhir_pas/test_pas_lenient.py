"""The lenient read the PAS facade uses: structure as strict as ever, data findings located."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappings.fhir_pas import read_request_bundle
from mappings.fhir_pas.errors import PasMappingError
from mappings.fhir_pas.request_reader import read_request_bundle_leniently
from tests.mappings.fhir_pas.test_pas_structure import mutants

GOLDEN = Path(__file__).parent / "golden"


def _bundle() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((GOLDEN / "prior-authorization.bundle.json").read_text())
    return document


def _requester(bundle: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    reference = bundle["entry"][0]["resource"]["provider"]["reference"]
    [(index, entry)] = [(i, e) for i, e in enumerate(bundle["entry"]) if e["fullUrl"] == reference]
    return index, entry["resource"]


@pytest.mark.parametrize("npi", ["123456", "123456789"])
def test_example_npis_are_findings_at_the_identifier(npi: str) -> None:
    bundle = _bundle()
    index, requester = _requester(bundle)
    requester["identifier"][0]["value"] = npi
    with pytest.raises(PasMappingError):
        read_request_bundle(bundle)
    read = read_request_bundle_leniently(bundle)
    [finding] = read.findings
    assert finding.severity == "warning"
    assert finding.expression == f"Bundle.entry[{index}].resource.identifier"
    assert npi not in finding.diagnostics
    assert read.payload["requesting_provider"]["npi"] == npi
    assert read.request is None
    json.dumps(read.payload)  # storable as it is


def test_a_clean_bundle_reads_to_the_strict_payload() -> None:
    read = read_request_bundle_leniently(_bundle())
    assert read.findings == []
    assert read.request == read_request_bundle(_bundle())[1]


def test_structure_is_still_refused() -> None:
    bundle = _bundle()
    bundle["entry"][0]["resource"]["use"] = "claim"
    with pytest.raises(PasMappingError) as refused:
        read_request_bundle_leniently(bundle)
    assert [i.expression for i in refused.value.issues] == ["Bundle.entry[0].resource.use"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_mutated_bundles_are_read_or_refused_never_crashed(seed: int) -> None:
    for raw in mutants(10, seed=seed):
        try:
            read = read_request_bundle_leniently(json.loads(raw, parse_float=Decimal))
        except PasMappingError:
            continue
        json.dumps(read.payload)  # whatever was accepted can be stored
