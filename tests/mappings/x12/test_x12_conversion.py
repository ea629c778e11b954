"""`casegate convert` for X12: transactions detected from ST01 and the guide, several giving
a list; invalid interchanges refused with the 999 or TA1 they earn; canonical -> x12-278
refusing what would be left out unless asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mappings.conversions import ConversionError, conversions, convert
from mappings.x12 import parse_interchanges, read, read_ta1
from mappings.x12.canonical_documents import READERS
from mappings.x12.specs import SPECS, X217_REQUEST, X217_RESPONSE, X231_999

GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
VALID = (GOLDEN / "prior-authorization.278.x12").read_bytes()


def _case(**x12: Any) -> bytes:
    payload = json.loads((EXAMPLES / "prior-authorization.json").read_text())
    document = {"case_type": "prior_authorization", "case_id": "case-0001", "payload": payload}
    document["x12"] = {"created": "2026-11-20T14:03:00", "control_number": 17} | x12
    return json.dumps(document).encode()


def _refusal(data: bytes, source: str = "x12", target: str = "canonical") -> ConversionError:
    with pytest.raises(ConversionError) as caught:
        convert(data, source, target)
    return caught.value


def test_x12_conversions_are_registered() -> None:
    targets = ("x12-278", "x12-270", "x12-276", "x12-837p", "x12-837i")
    assert {("x12", "canonical")} | {("canonical", t) for t in targets} <= set(conversions())


def test_canonical_to_278_matches_the_golden_file() -> None:
    assert convert(_case(), "canonical", "x12-278") == VALID


def test_a_bare_payload_gets_a_stable_case_id() -> None:
    payload = (EXAMPLES / "prior-authorization.json").read_bytes()
    first = convert(payload, "canonical", "x12-278")
    bht = next(line for line in first.split(b"\n") if line.startswith(b"BHT"))
    assert bht.split(b"*")[3].startswith(b"cg-")
    assert (
        bht.split(b"*")[3]
        == next(
            line
            for line in convert(payload, "canonical", "x12-278").split(b"\n")
            if line.startswith(b"BHT")
        ).split(b"*")[3]
    )


def test_what_would_be_left_out_refuses_the_conversion_unless_allowed() -> None:
    document = json.loads((GOLDEN / "dependent-limits.case.json").read_text())
    document["x12"].pop("allow_left_out")
    refusal = _refusal(json.dumps(document).encode(), "canonical", "x12-278")
    assert "/payload/diagnoses/12" in [e.location for e in refusal.errors]
    assert refusal.rejection is None
    document["x12"]["allow_left_out"] = True
    built = convert(json.dumps(document).encode(), "canonical", "x12-278")
    assert built == (GOLDEN / "dependent-limits.278.x12").read_bytes()


@pytest.mark.parametrize(
    ("data", "location"),
    [
        (b"{not json", "line 1"),
        (json.dumps({"case_type": "eligibility_check", "payload": {}}).encode(), "/case_type"),
        (json.dumps({"payload": {"urgency": "standard"}}).encode(), "/payload/patient"),
    ],
)
def test_bad_canonical_input_is_located(data: bytes, location: str) -> None:
    assert location in [e.location for e in _refusal(data, "canonical", "x12-278").errors]


@pytest.mark.parametrize(
    ("options", "location"),
    [({"usage": "Q"}, "/x12"), ({"receiver_id": "R" * 16}, "/x12"), ({"created": "soon"}, "/x12")],
)
def test_bad_envelope_options_are_refused(options: dict[str, Any], location: str) -> None:
    assert [e.location for e in _refusal(_case(**options), "canonical", "x12-278").errors] == [
        location
    ]


def test_several_transactions_give_a_list_in_order() -> None:
    response = (GOLDEN / "response-approved.x12").read_bytes()
    ack = (GOLDEN / "invalid-278.999.x12").read_bytes()
    documents = json.loads(convert(response + ack + VALID, "x12", "canonical"))
    assert [d["transaction_set"] for d in documents] == ["278", "999", "278"]
    assert documents[0]["decision"]["outcome"] == "approved"
    assert documents[1]["acknowledgment"]["status"] == "R"
    assert documents[2]["case_type"] == "prior_authorization"


def test_an_invalid_transaction_is_refused_with_its_999() -> None:
    refusal = _refusal((GOLDEN / "invalid-278.x12").read_bytes())
    assert refusal.rejection is not None
    [answer] = read(refusal.rejection)
    assert answer.accepted
    assert answer.interchange.receiver == ("ZZ", "CASEGATE")
    acknowledgment = json.loads(convert(refusal.rejection, "x12", "canonical"))["acknowledgment"]
    segments = acknowledgment["transactions"][0]["segments"]
    assert [(s["segment_id"], s["position"], s["code"]) for s in segments] == [
        ("NM1", 8, "8"),
        ("DMG", 11, "8"),
        ("UM", 14, "8"),
        ("ZZZ", 17, "6"),
    ]
    assert (
        "transaction set 278 at segment 3: segment 14 (UM, loop 2000E) element 01",
        "invalid code value",
    ) in [(e.location, e.message) for e in refusal.errors]


def test_an_envelope_fault_is_refused_with_its_ta1() -> None:
    refusal = _refusal(VALID.replace(b"IEA*1*000000017", b"IEA*1*000000099"))
    assert refusal.rejection is not None
    [answer] = parse_interchanges(refusal.rejection)
    assert read_ta1(answer.acknowledgments[0]).note_code == "001"
    assert refusal.errors[0].message.startswith("the interchange control number")


def test_unreadable_bytes_are_refused_with_a_ta1_when_the_isa_can_be_read() -> None:
    refusal = _refusal(VALID.replace(b"NM1*X3", b"nm1*X3"))
    assert refusal.summary == "unreadable X12"
    assert refusal.errors[0].location == "segment 6"
    assert refusal.rejection is not None
    assert b"TA1*000000017*261120*1403*R*024~" in refusal.rejection
    assert _refusal(b"hello").rejection is None


def test_a_278_whose_content_canonical_refuses_is_located_without_a_rejection() -> None:
    refusal = _refusal(VALID.replace(b"XX*1260181593", b"XX*1260181594"))
    assert refusal.rejection is None
    assert refusal.errors[0].location.endswith("/requesting_provider/npi")


def test_every_supported_transaction_has_a_canonical_form() -> None:
    """The 278s and the 999 have their own shapes in the conversion; the rest a reader each."""
    for spec in SPECS:
        own = any(spec is s for s in (X217_REQUEST, X217_RESPONSE, X231_999))
        assert own or (spec.set_id, spec.reference) in READERS, spec.name


def test_a_response_whose_decision_canonical_refuses_is_located() -> None:
    response = (GOLDEN / "response-approved.x12").read_bytes()
    refusal = _refusal(response.replace(b"HSD*FL*1~", b"HSD*FL*-1~"))
    assert refusal.rejection is None
    assert refusal.errors[0].location.endswith("/items/0/authorized_units")
