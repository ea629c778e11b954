"""The fast structure check against the fhir.resources R4B models it replaces: every mutated
bundle the models refuse, the PAS reader refuses too (it may refuse more)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mappings.fhir_pas.errors import PasMappingError
from mappings.fhir_pas.request_reader import read_request_bundle_leniently
from mappings.fhir_pas.structure import structure_issues

GOLDEN = Path(__file__).parent / "golden"
BUNDLES = ["dependent-drug-attachment", "prior-authorization"]
REPLACEMENTS: list[Any] = [
    123,
    -1,
    1.5,
    "",
    " padded",
    "two  spaces",
    "2026-02-30",
    "not a date",
    True,
    None,
    [],
    {},
    {"unknownElement": 1},
    [None],
]
Path_ = tuple[str | int, ...]


def _golden(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((GOLDEN / f"{name}.bundle.json").read_text())
    return document


def _paths(node: object, path: Path_ = ()) -> Iterator[Path_]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*path, index)
            yield from _paths(value, (*path, index))


def _mutated(document: dict[str, Any], path: Path_, mutation: str, value: Any) -> Any:
    mutant = copy.deepcopy(document)
    parent: Any = mutant
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if mutation == "replace":
        parent[last] = value
    elif mutation == "delete":
        del parent[last]
    elif mutation == "wrap":
        parent[last] = [parent[last]]
    elif mutation == "unwrap" and isinstance(parent[last], list):
        parent[last] = parent[last][0]
    elif mutation == "sibling" and isinstance(last, str):
        parent[last + "Extra" if not last.startswith("value") else "valueBoolean"] = True
    return mutant


def _models_refuse(raw: bytes) -> bool:
    try:
        Bundle.model_validate_json(raw)
    except (ValidationError, ValueError, KeyError, TypeError):
        return True
    return False


def _we_refuse(raw: bytes) -> bool:
    try:
        read_request_bundle_leniently(json.loads(raw, parse_float=Decimal))
    except PasMappingError:
        return True
    return False


def mutants(count: int, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    documents = [_golden(name) for name in BUNDLES]
    for _ in range(count):
        document = rng.choice(documents)
        path = rng.choice(list(_paths(document)))
        mutation = rng.choice(
            ["replace", "replace", "replace", "delete", "wrap", "unwrap", "sibling"]
        )
        yield json.dumps(_mutated(document, path, mutation, rng.choice(REPLACEMENTS))).encode()


@pytest.mark.parametrize("name", BUNDLES)
def test_golden_bundles_have_no_structure_issues(name: str) -> None:
    assert structure_issues(json.loads((GOLDEN / f"{name}.bundle.json").read_text())) == []


def test_every_mutant_the_models_refuse_is_refused() -> None:
    refused_by_models = 0
    for raw in mutants(400, seed=20261123):
        if _models_refuse(raw):
            refused_by_models += 1
            assert _we_refuse(raw), raw.decode()[:2000]
    assert refused_by_models > 100  # the set exercises the models' rules, not only ours


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_random_mutants_refused_by_the_models_are_refused(seed: int) -> None:
    for raw in mutants(3, seed=seed):
        if _models_refuse(raw):
            assert _we_refuse(raw), raw.decode()[:2000]


def test_a_refusal_names_the_element() -> None:
    document = _golden("prior-authorization")
    document["entry"][0]["resource"]["created"] = "yesterday"
    document["entry"][0]["resource"]["unknownElement"] = 1
    expressions = {issue.expression for issue in structure_issues(document)}
    assert expressions == {
        "Bundle.entry[0].resource.created",
        "Bundle.entry[0].resource.unknownElement",
    }


def test_extensions_nested_beyond_reason_are_refused_not_crashed() -> None:
    document = _golden("prior-authorization")
    extension: dict[str, Any] = {"url": "urn:deep", "valueString": "x"}
    for _ in range(2000):
        extension = {"url": "urn:deep", "extension": [extension]}
    document["entry"][0]["resource"]["extension"] = [extension]
    [issue] = structure_issues(document)
    assert issue.code == "too-costly"
