"""PAS response bundles <-> Decision: goldens both ways and the review-action table."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from canonical.cases import PriorAuthorizationRequest
from canonical.decisions import Decision, DecisionOutcome, ItemDecision, ReviewAction
from mappings.conversions import convert
from mappings.fhir_pas import read_response_bundle, render_response_bundle

GOLDEN = Path(__file__).parent / "golden"
NAMES = sorted(p.name.removesuffix(".response.json") for p in GOLDEN.glob("*.response.json"))
CREATED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
REQUEST = PriorAuthorizationRequest.model_validate_json(
    (GOLDEN / "dependent-drug-attachment.case.json").read_text()
)


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.mark.parametrize("name", NAMES)
def test_response_reads_to_golden_decision(name: str) -> None:
    expected = Decision.model_validate(_load(GOLDEN / f"{name}.decision.json"))
    assert read_response_bundle(_load(GOLDEN / f"{name}.response.json")) == expected


@pytest.mark.parametrize("name", NAMES)
def test_decision_renders_to_golden_response(name: str) -> None:
    decision = Decision.model_validate(_load(GOLDEN / f"{name}.decision.json"))
    rendered = render_response_bundle(
        decision, case_id="case-0002", request=REQUEST, created=CREATED
    )
    assert rendered == _load(GOLDEN / f"{name}.response.json")


def test_goldens_cover_every_outcome() -> None:
    outcomes = {_load(GOLDEN / f"{n}.decision.json")["outcome"] for n in NAMES}
    assert outcomes == {o.value for o in DecisionOutcome}


@pytest.mark.parametrize(
    ("codes", "outcome"),
    [
        (["A1", "A1"], DecisionOutcome.approved),
        (["A1", "NA"], DecisionOutcome.approved),
        (["A2", "A1"], DecisionOutcome.partially_approved),
        (["A1", "A3"], DecisionOutcome.partially_approved),
        (["A6", "A1"], DecisionOutcome.partially_approved),
        (["A3", "A3"], DecisionOutcome.denied),
        (["A3", "C"], DecisionOutcome.denied),
        (["A4", "A1"], DecisionOutcome.pended),
        (["CT", "A3"], DecisionOutcome.more_info_requested),
        (["C", "C"], DecisionOutcome.cancelled),
    ],
)
def test_review_action_codes_decide_the_outcome(codes: list[str], outcome: DecisionOutcome) -> None:
    bundle = _load(GOLDEN / "approved.response.json")
    response = bundle["entry"][0]["resource"]
    for item, code in zip(response["item"], codes, strict=True):
        review = item["adjudication"][0]["extension"][0]["extension"][0]
        review["valueCodeableConcept"]["coding"][0]["code"] = code
    decision = read_response_bundle(bundle)
    assert decision.outcome is outcome
    assert [i.action for i in decision.items] == [ReviewAction(c) for c in codes]


@pytest.mark.parametrize("outcome", ["complete", "error", "partial", "queued"])
def test_claim_response_outcome_is_never_read(outcome: str) -> None:
    bundle = _load(GOLDEN / "pended.response.json")
    bundle["entry"][0]["resource"]["outcome"] = outcome
    assert read_response_bundle(bundle).outcome is DecisionOutcome.pended


def test_response_conversion_prints_the_decision() -> None:
    data = (GOLDEN / "denied.response.json").read_bytes()
    printed = json.loads(convert(data, "fhir-pas-response", "canonical"))
    assert Decision.model_validate(printed) == Decision.model_validate(
        _load(GOLDEN / "denied.decision.json")
    )


def test_render_refuses_an_outcome_its_items_contradict() -> None:
    decision = Decision(
        outcome=DecisionOutcome.approved,
        items=[ItemDecision(sequence=1, action=ReviewAction.not_certified)],
    )
    with pytest.raises(ValueError, match="disagrees"):
        render_response_bundle(decision, case_id="c", request=REQUEST, created=CREATED)


def test_render_refuses_an_unknown_item_sequence() -> None:
    decision = Decision(
        outcome=DecisionOutcome.approved,
        items=[ItemDecision(sequence=9, action=ReviewAction.certified)],
    )
    with pytest.raises(ValueError, match="sequence"):
        render_response_bundle(decision, case_id="c", request=REQUEST, created=CREATED)


def test_unmodified_golden_is_not_changed_by_reading() -> None:
    bundle = _load(GOLDEN / "approved.response.json")
    before = copy.deepcopy(bundle)
    read_response_bundle(bundle)
    assert bundle == before
