"""payer_rest wire format against golden files, both ways, and its located errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from canonical.cases import PriorAuthorizationRequest
from canonical.decisions import Decision
from mappings.payer_rest import (
    PayerResponseError,
    build_submission,
    parse_decision,
    render_decision,
)

GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
RESPONSES = sorted(p.name.removesuffix(".response.json") for p in GOLDEN.glob("*.response.json"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    ("case_file", "case_id", "golden"),
    [
        (EXAMPLES / "prior-authorization.json", "case-0001", "prior-authorization"),
        (
            GOLDEN / "dependent-drug-attachment.case.json",
            "case-0002",
            "dependent-drug-attachment",
        ),
    ],
)
def test_submission_matches_golden(case_file: Path, case_id: str, golden: str) -> None:
    case = PriorAuthorizationRequest.model_validate(_load(case_file))
    built = build_submission(case_id, case)
    assert built == _load(GOLDEN / f"{golden}.request.json")
    json.dumps(built)  # plain JSON types only: no Decimal or date left behind


def test_goldens_cover_every_outcome() -> None:
    outcomes = {_load(GOLDEN / f"{name}.decision.json")["outcome"] for name in RESPONSES}
    assert outcomes == {
        "approved",
        "partially_approved",
        "denied",
        "pended",
        "more_info_requested",
        "cancelled",
    }


@pytest.mark.parametrize("name", RESPONSES)
def test_response_parses_to_golden_decision(name: str) -> None:
    decision = parse_decision(_load(GOLDEN / f"{name}.response.json"))
    assert decision == Decision.model_validate(_load(GOLDEN / f"{name}.decision.json"))


@pytest.mark.parametrize("name", RESPONSES)
def test_decision_renders_to_golden_response(name: str) -> None:
    response = _load(GOLDEN / f"{name}.response.json")
    decision = Decision.model_validate(_load(GOLDEN / f"{name}.decision.json"))
    assert render_decision(decision, request_id=response["requestId"]) == response


def test_render_needs_the_payer_reference() -> None:
    decision = Decision.model_validate(_load(GOLDEN / "approved.decision.json"))
    with pytest.raises(ValueError, match="payer_reference"):
        render_decision(decision.model_copy(update={"payer_reference": None}), request_id="c")


def _approved() -> dict[str, Any]:
    document: dict[str, Any] = _load(GOLDEN / "approved.response.json")
    return document


def _set(document: dict[str, Any], pointer: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    *parents, last = pointer.strip("/").split("/")
    node: Any = changed
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is _REMOVE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return changed


_REMOVE = object()
SECRETISH = "Zq-Jane-Doe-1961"


@pytest.mark.parametrize(
    ("pointer", "value", "expected_pointer"),
    [
        ("/status", SECRETISH, "/status"),
        ("/status", 3, "/status"),
        ("/status", _REMOVE, "/status"),
        ("/referenceNumber", _REMOVE, "/referenceNumber"),
        ("/referenceNumber", "x" * 81, "/referenceNumber"),
        ("/authorizationNumber", _REMOVE, "/authorizationNumber"),
        ("/authorizationNumber", "   ", "/authorizationNumber"),
        ("/validFrom", "12/14/2026", "/validFrom"),
        ("/validFrom", "2026-02-30", "/validFrom"),
        ("/validFrom", _REMOVE, "/validFrom"),
        ("/validTo", "2026-01-01", "/validTo"),
        ("/decidedAt", SECRETISH, "/decidedAt"),
        ("/decidedAt", "2026-11-20T14:03:11", "/decidedAt"),
        ("/services", {"sequence": 1}, "/services"),
        ("/services", [{"sequence": 1, "status": "APPROVED"}] * 51, "/services"),
        ("/services/0", SECRETISH, "/services/0"),
        ("/services/0/sequence", True, "/services/0/sequence"),
        ("/services/0/sequence", 0, "/services/0/sequence"),
        ("/services/0/sequence", "1", "/services/0/sequence"),
        ("/services/0/status", SECRETISH, "/services/0/status"),
        ("/services/0/approvedQuantity", "-1", "/services/0/approvedQuantity"),
        ("/services/0/approvedQuantity", float("inf"), "/services/0/approvedQuantity"),
        ("/services/0/approvedQuantity", False, "/services/0/approvedQuantity"),
        ("/services/0/approvedQuantity", "NaN", "/services/0/approvedQuantity"),
        ("/services/0/reasonCode", "R" * 21, "/services/0/reasonCode"),
        ("/reason", SECRETISH, "/reason"),
    ],
)
def test_off_contract_field_is_located_without_its_value(
    pointer: str, value: Any, expected_pointer: str
) -> None:
    with pytest.raises(PayerResponseError) as caught:
        parse_decision(_set(_approved(), pointer, value))
    assert caught.value.pointer == expected_pointer
    assert str(caught.value).startswith(expected_pointer)
    assert SECRETISH not in str(caught.value)


@pytest.mark.parametrize("document", [None, [], "APPROVED", 1])
def test_a_body_that_is_not_an_object_is_located_at_the_top(document: object) -> None:
    with pytest.raises(PayerResponseError) as caught:
        parse_decision(document)
    assert caught.value.pointer == ""


def test_denial_without_reason_is_refused() -> None:
    denied = _load(GOLDEN / "denied.response.json")
    del denied["reason"]
    with pytest.raises(PayerResponseError) as caught:
        parse_decision(denied)
    assert caught.value.pointer == "/reason"


def test_denial_reason_needs_a_code() -> None:
    denied = _load(GOLDEN / "denied.response.json")
    denied["reason"] = {"text": SECRETISH}
    with pytest.raises(PayerResponseError) as caught:
        parse_decision(denied)
    assert caught.value.pointer == "/reason/code"
    assert SECRETISH not in str(caught.value)


def test_partial_approval_must_list_services() -> None:
    partial = _load(GOLDEN / "partially-approved.response.json")
    del partial["services"]
    with pytest.raises(PayerResponseError) as caught:
        parse_decision(partial)
    assert caught.value.pointer == "/services"


def test_repeated_service_sequence_is_refused() -> None:
    partial = _load(GOLDEN / "partially-approved.response.json")
    partial["services"][1]["sequence"] = 1
    with pytest.raises(PayerResponseError) as caught:
        parse_decision(partial)
    assert caught.value.pointer == "/services/1/sequence"


def test_echoed_request_id_must_match_when_checked() -> None:
    document = _approved()
    assert parse_decision(document, request_id="case-0001").auth_number == "AUTH00000017"
    with pytest.raises(PayerResponseError) as caught:
        parse_decision(document, request_id="case-9999")
    assert caught.value.pointer == "/requestId"


def test_lenient_where_the_payer_may_vary() -> None:
    document = _set(_approved(), "/decidedAt", "2026-11-20T14:03:11Z")
    document = _set(document, "/services/0/approvedQuantity", 2.5)
    document["someFutureField"] = {"anything": [1, 2]}
    decision = parse_decision(document)
    assert decision.decided_at is not None and decision.decided_at.utcoffset() is not None
    assert str(decision.items[0].authorized_units) == "2.5"
    assert (
        parse_decision(_set(document, "/services/0/approvedQuantity", 3)).items[0].authorized_units
        == 3
    )
