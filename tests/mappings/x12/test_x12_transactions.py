"""270/271, 276/277, 837P/837I and 835 against golden files, both ways; the denial rule; the
streamed 835; and bad input in these transactions earning its located 999 or TA1."""

from __future__ import annotations

import io
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from canonical.cases import ClaimStatusRequest, EligibilityCheckRequest
from canonical.claim_status import ClaimStatusResult
from canonical.claims import Claim
from canonical.eligibility import EligibilityResult
from canonical.remittance import ClaimPaymentStatus, Remittance
from mappings.conversions import ConversionError, convert
from mappings.x12 import Group, InterchangeHeader, Party, Transaction, build_interchange, read
from mappings.x12.claim_status import status_body
from mappings.x12.denials import denials, review_denials
from mappings.x12.eligibility import benefits_body
from mappings.x12.errors import X12Error
from mappings.x12.remittance import StreamedRemittance, read_835, stream_835

GOLDEN = Path(__file__).parent / "golden"
REMITTANCE = (GOLDEN / "remittance.835.x12").read_bytes()
REQUESTS = [
    ("eligibility-check", "x12-270", "270"),
    ("claim-status", "x12-276", "276"),
    ("claim-professional", "x12-837p", "837p"),
    ("claim-institutional", "x12-837i", "837i"),
]


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _reply_header(control_number: int, minute: int) -> InterchangeHeader:
    created = datetime(2026, 11, 20, 14, minute)
    return InterchangeHeader(
        Party("ACMEHP"), Party("CASEGATE"), control_number, created, line_break="\n"
    )


@pytest.mark.parametrize(("name", "target", "suffix"), REQUESTS)
def test_canonical_builds_the_golden_request(name: str, target: str, suffix: str) -> None:
    built = convert((GOLDEN / f"{name}.case.json").read_bytes(), "canonical", target)
    assert built == (GOLDEN / f"{name}.{suffix}.x12").read_bytes()


@pytest.mark.parametrize(("name", "target", "suffix"), REQUESTS)
def test_the_golden_request_reads_back_into_its_case(name: str, target: str, suffix: str) -> None:
    data = (GOLDEN / f"{name}.{suffix}.x12").read_bytes()
    document = json.loads(convert(data, "x12", "canonical"))
    assert document == _json(GOLDEN / f"{name}.canonical.json")
    case = _json(GOLDEN / f"{name}.case.json")
    payload = document.get("payload") or document["claim"]
    assert document["case_id"] == case["case_id"]
    models: dict[str, type[BaseModel]] = {
        "x12-270": EligibilityCheckRequest,
        "x12-276": ClaimStatusRequest,
    }
    model = models.get(target, Claim)
    assert model.model_validate(payload) == model.model_validate(case["payload"])


def test_a_result_builds_the_golden_271_and_reads_back_unchanged() -> None:
    request = EligibilityCheckRequest.model_validate(
        _json(GOLDEN / "eligibility-check.case.json")["payload"]
    )
    for name, control, minute in (("eligibility-active", 31, 21), ("eligibility-rejected", 33, 22)):
        result = EligibilityResult.model_validate(_json(GOLDEN / f"{name}.result.json"))
        if name == "eligibility-rejected":
            request = EligibilityCheckRequest.model_validate(
                _json(GOLDEN.parents[3] / "examples" / "eligibility-check.json")
            )
        header = _reply_header(control, minute)
        body = benefits_body(result.case_id or "", request, result, created=header.created)
        group = Group("HB", "005010X279A1", control, [Transaction("271", "0001", body)])
        data = build_interchange(header, [group]).to_bytes()
        assert data == (GOLDEN / f"{name}.271.x12").read_bytes()
        document = json.loads(convert(data, "x12", "canonical"))
        assert document == _json(GOLDEN / f"{name}.canonical.json")
        assert EligibilityResult.model_validate(document["eligibility"]) == result


def test_the_271_answers_the_two_questions_asked_most() -> None:
    active = _json(GOLDEN / "eligibility-active.canonical.json")["eligibility"]
    assert active["coverage_active"] is True
    assert active["authorization_required_for"] == ["2", "73"]
    rejected = _json(GOLDEN / "eligibility-rejected.canonical.json")["eligibility"]
    assert rejected["coverage_active"] is None
    assert rejected["rejections"] == [{"loop": "2100C", "reason_code": "72", "follow_up": "C"}]


def test_a_result_builds_the_golden_277_and_reads_back_unchanged() -> None:
    request = ClaimStatusRequest.model_validate(_json(GOLDEN / "claim-status.case.json")["payload"])
    result = ClaimStatusResult.model_validate(_json(GOLDEN / "claim-status-finalized.result.json"))
    header = _reply_header(31, 21)
    body = status_body("case-0004", request, result, created=header.created)
    group = Group("HN", "005010X212", 32, [Transaction("277", "0001", body)])
    data = build_interchange(header, [group]).to_bytes()
    assert data == (GOLDEN / "claim-status-finalized.277.x12").read_bytes()
    document = json.loads(convert(data, "x12", "canonical"))
    assert document == _json(GOLDEN / "claim-status-finalized.canonical.json")
    read_back = ClaimStatusResult.model_validate(document["claim_status"])
    assert read_back == result
    statuses = read_back.claims[0].lines[1].statuses
    assert [(s.category, s.code, s.finalized) for s in statuses] == [
        ("F1", "65", True),
        ("F2", "107", True),
    ]


def test_the_835_reads_into_the_golden_remittance_and_its_denials() -> None:
    document = json.loads(convert(REMITTANCE, "x12", "canonical"))
    assert document == _json(GOLDEN / "remittance.canonical.json")
    remittance = Remittance.model_validate(document["remittance"])
    assert [c.status for c in remittance.claims] == [
        ClaimPaymentStatus.primary,
        ClaimPaymentStatus.denied,
    ]
    assert [(a.reason_code, a.amount) for a in remittance.provider_adjustments] == [
        ("WO", Decimal("-25")),
        ("L6", Decimal("3.5")),
    ]
    assert [d["patient_account_number"] for d in document["denials"]] == ["PATIENTACCOUNT0002"]


def _submitted() -> dict[str, Claim]:
    claims = [
        Claim.model_validate(_json(GOLDEN / f"{name}.case.json")["payload"])
        for name in ("claim-professional", "claim-institutional")
    ]
    return {claim.patient_account_number: claim for claim in claims}


def test_denied_lines_open_the_golden_denial_appeals() -> None:
    [checked] = read(REMITTANCE)
    assert checked.transactions[0].tree is not None
    remittance = read_835(checked.transactions[0].tree)
    review = review_denials(remittance, _submitted())
    appeals = [appeal.model_dump(mode="json") for appeal in review.appeals]
    assert appeals == _json(GOLDEN / "remittance.denial-appeals.json")
    assert review.unmatched == []
    unknown = review_denials(remittance, {})
    assert review.appeals and [u.payment.patient_account_number for u in unknown.unmatched] == [
        "PATIENTACCOUNT0002"
    ]


@pytest.mark.parametrize(
    ("old", "new", "denied"),
    [
        (b"", b"", False),  # CO-45 and PR-1: the contract and the patient's share, not denials
        (
            b"1100.00**1~\nDTM*472*20261214~\nCAS*CO*45",
            b"0**1~\nDTM*472*20261214~\nCAS*CO*197",
            True,
        ),
        (
            b"1100.00**1~\nDTM*472*20261214~\nCAS*CO*45",
            b"0**1~\nDTM*472*20261214~\nCAS*CO*45",
            False,
        ),
        (b"CAS*CO*45*200.00~\nCAS*PR", b"CAS*PI*16*200.00~\nCAS*PR", False),  # still paid
        (b"CLP*PATIENTACCOUNT0001*1*", b"CLP*PATIENTACCOUNT0001*4*", True),
        (b"CLP*PATIENTACCOUNT0001*1*", b"CLP*PATIENTACCOUNT0001*22*", False),
    ],
)
def test_which_lines_count_as_denied(old: bytes, new: bytes, denied: bool) -> None:
    data = REMITTANCE.replace(old, new) if old else REMITTANCE
    [checked] = read(data)
    assert checked.accepted, list(checked.located_errors())
    assert checked.transactions[0].tree is not None
    first = read_835(checked.transactions[0].tree).claims[0]
    adjustments, _lines = denials(first)
    assert bool(adjustments) is denied


def test_a_streamed_835_gives_what_the_whole_read_gives() -> None:
    [checked] = read(REMITTANCE)
    assert checked.transactions[0].tree is not None
    whole = read_835(checked.transactions[0].tree)
    summary = StreamedRemittance()
    claims = list(stream_835(io.BytesIO(REMITTANCE), summary))
    assert claims == whole.claims
    assert summary.remittance == whole.model_copy(update={"claims": []})
    assert summary.claims == 2


@pytest.mark.parametrize(
    ("old", "new", "position", "segment_id"),
    [
        (b"SE*36*0001", b"SE*35*0001", 38, "SE"),
        (b"CLP*PATIENTACCOUNT0002*4*", b"CLP*PATIENTACCOUNT0002*9*", 29, "CLP"),
        (b"N1*PE*", b"N9*PE*", 12, "N9"),
        (b"GE*1*301~\nIEA*1*000000301~\n", b"", None, "IEA"),
    ],
)
def test_a_streamed_835_refuses_bad_input_where_it_is(
    old: bytes, new: bytes, position: int | None, segment_id: str
) -> None:
    with pytest.raises(X12Error) as caught:
        list(stream_835(io.BytesIO(REMITTANCE.replace(old, new))))
    assert (caught.value.location.segment, caught.value.location.segment_id) == (
        position,
        segment_id,
    )


ELIGIBILITY = (GOLDEN / "eligibility-active.271.x12").read_bytes()
CLAIM = (GOLDEN / "claim-professional.837p.x12").read_bytes()


@pytest.mark.parametrize(
    ("data", "kind", "code", "where"),
    [
        (ELIGIBILITY[:80], None, "", "segment 1 (ISA)"),  # a short ISA
        (ELIGIBILITY.replace(b"HL*1**20*1~", b"HL|1||20|1~"), "TA1", "024", "segment 5"),
        (ELIGIBILITY.replace(b"IEA*1*000000031~\n", b""), "TA1", "023", "no IEA"),
        (ELIGIBILITY.replace(b"GE*1*31", b"GE*2*31"), "999", "AK9*R*1*1*1*5", "(GS)"),
        (ELIGIBILITY.replace(b"SE*24*0001", b"SE*23*0001"), "999", "IK5*R*4", "transaction"),
        (ELIGIBILITY.replace(b"ST*271", b"ST*272"), "999", "IK5*R*1", "transaction set 272"),
        (ELIGIBILITY.replace(b"EB*A**30", b"EB*Q7**30"), "999", "IK4*1*1390*7", "element 01"),
        (CLAIM.replace(b"SBR*P*18", b"SBR*Z*18"), "999", "IK3*SBR*13*2000*8", "(SBR, loop"),
        (
            CLAIM.replace(b"CLM*PATIENTACCOUNT0002*500", b"CLM*PATIENTACCOUNT0002*5X0"),
            "999",
            "IK4*2*782*6",
            "element 02",
        ),
    ],
)
def test_bad_input_earns_its_acknowledgment_with_located_errors(
    data: bytes, kind: str | None, code: str, where: str
) -> None:
    with pytest.raises(ConversionError) as caught:
        convert(data, "x12", "canonical")
    refusal = caught.value
    assert any(where in error.location for error in refusal.errors), refusal.errors
    if kind is None:
        assert refusal.rejection is None  # too short to address an answer to
        return
    assert refusal.rejection is not None
    answer = refusal.rejection.decode()
    assert (b"TA1*" in refusal.rejection) is (kind == "TA1")
    assert code in answer
