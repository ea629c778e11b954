"""X12 against golden files, both ways: canonical -> 278 request, 278 -> canonical, 278
responses -> decisions, validation errors -> 999 and TA1, and 999/TA1 read back."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from canonical.cases import PriorAuthorizationRequest
from mappings.conversions import convert
from mappings.x12 import (
    InterchangeHeader,
    Party,
    build_278_request,
    build_999,
    build_ta1,
    parse_interchanges,
    read,
)

GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
RESPONSES = sorted(p.name.removesuffix(".x12") for p in GOLDEN.glob("response-*.x12"))
ALL_X12 = sorted(p.name for p in GOLDEN.glob("*.x12"))


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _header(control_number: int, created: datetime) -> InterchangeHeader:
    return InterchangeHeader(
        Party("CASEGATE"), Party("ACMEHP"), control_number, created, line_break="\n"
    )


def test_prior_authorization_builds_the_golden_278() -> None:
    request = PriorAuthorizationRequest.model_validate(_json(EXAMPLES / "prior-authorization.json"))
    interchange, left_out = build_278_request(
        "case-0001", request, _header(17, datetime(2026, 11, 20, 14, 3))
    )
    assert interchange.to_bytes() == (GOLDEN / "prior-authorization.278.x12").read_bytes()
    assert left_out == []


def test_what_a_278_cannot_carry_is_listed_not_dropped() -> None:
    case = _json(GOLDEN / "dependent-limits.case.json")
    request = PriorAuthorizationRequest.model_validate(case["payload"])
    interchange, left_out = build_278_request(
        "case-0002", request, _header(18, datetime(2026, 11, 20, 14, 5))
    )
    assert interchange.to_bytes() == (GOLDEN / "dependent-limits.278.x12").read_bytes()
    assert [(item.pointer, item.reason) for item in left_out] == [
        ("/coverage/subscriber/family", "delimiter characters were sent as spaces"),
        ("/patient/address/line/2", "an X12 address has two lines"),
        ("/patient/sex", "X12 has no code for 'other'; sent as U"),
        ("/diagnoses/12", "a 278 carries at most 12 diagnoses"),
        ("/diagnoses/13", "a 278 carries at most 12 diagnoses"),
        ("/attachments/10", "a 278 lists at most 10 attachments"),
        ("/notes", "delimiter characters were sent as spaces"),
        ("/notes", "cut to the 264 characters X12 allows"),
        ("/service_lines/2/drug", "a 278 service line carries one procedure code, not an NDC"),
    ]
    hi = next(line for line in interchange.to_bytes().split(b"\n") if line.startswith(b"HI*"))
    assert hi.count(b"*") == 12


@pytest.mark.parametrize("name", ["prior-authorization", "dependent-limits"])
def test_278_request_reads_into_the_golden_canonical_case(name: str) -> None:
    data = (GOLDEN / f"{name}.278.x12").read_bytes()
    assert json.loads(convert(data, "x12", "canonical")) == _json(GOLDEN / f"{name}.canonical.json")


def test_the_example_case_survives_278_and_back() -> None:
    original = PriorAuthorizationRequest.model_validate(
        _json(EXAMPLES / "prior-authorization.json")
    )
    payload = _json(GOLDEN / "prior-authorization.canonical.json")["payload"]
    expected = original.model_dump(mode="json")
    expected["external_reference"] = None  # not sent by design, like the two below
    expected["coverage"]["plan_name"] = None
    for diagnosis in expected["diagnoses"]:
        diagnosis["description"] = None
    assert PriorAuthorizationRequest.model_validate(payload).model_dump(mode="json") == expected


def test_goldens_cover_every_outcome() -> None:
    outcomes = {_json(GOLDEN / f"{n}.decision.json")["decision"]["outcome"] for n in RESPONSES}
    assert outcomes == {
        "approved",
        "partially_approved",
        "denied",
        "pended",
        "more_info_requested",
        "cancelled",
    }
    actions = set()
    for name in RESPONSES:
        for line in (GOLDEN / f"{name}.x12").read_text().splitlines():
            if line.startswith("HCR*"):
                actions.add(line.removesuffix("~").split("*")[1])
    assert actions == {"A1", "A2", "A3", "A4", "A6", "C", "CT", "NA"}


@pytest.mark.parametrize("name", RESPONSES)
def test_278_response_reads_into_the_golden_decision(name: str) -> None:
    data = (GOLDEN / f"{name}.x12").read_bytes()
    assert json.loads(convert(data, "x12", "canonical")) == _json(GOLDEN / f"{name}.decision.json")


def test_validation_errors_build_the_golden_999() -> None:
    [checked] = read((GOLDEN / "invalid-278.x12").read_bytes())
    assert not checked.accepted
    ack = build_999(
        checked, control_number=900, created=datetime(2026, 11, 20, 14, 10), line_break="\n"
    )
    assert ack.to_bytes() == (GOLDEN / "invalid-278.999.x12").read_bytes()


def test_an_envelope_fault_builds_the_golden_ta1() -> None:
    [checked] = read((GOLDEN / "bad-envelope.x12").read_bytes())
    assert checked.report.ta1_code == "001"
    ta1 = build_ta1(
        checked.interchange,
        checked.report.ta1_code,
        control_number=901,
        created=datetime(2026, 11, 20, 14, 10),
        line_break="\n",
    )
    assert ta1.to_bytes() == (GOLDEN / "bad-envelope.ta1.x12").read_bytes()


@pytest.mark.parametrize("name", ["invalid-278.999", "bad-envelope.ta1"])
def test_acknowledgments_read_into_the_golden_json(name: str) -> None:
    data = (GOLDEN / f"{name}.x12").read_bytes()
    assert json.loads(convert(data, "x12", "canonical")) == _json(GOLDEN / f"{name}.json")


@pytest.mark.parametrize("name", ALL_X12)
def test_every_golden_interchange_round_trips_byte_for_byte(name: str) -> None:
    data = (GOLDEN / name).read_bytes()
    for variant in (data, data.replace(b"~\n", b"~"), data.replace(b"~\n", b"~\r\n")):
        [interchange] = parse_interchanges(variant)
        assert interchange.to_bytes() == variant
