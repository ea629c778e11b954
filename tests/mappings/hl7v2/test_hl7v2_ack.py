"""ACK content: the code for each outcome and mode, MSA-2 echoing MSH-10, ERR saying where."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from mappings.conversions import ConversionError, convert
from mappings.hl7v2 import (
    AckMode,
    ErrorCode,
    Hl7Error,
    Issue,
    Location,
    Message,
    Sender,
    Severity,
    acknowledge,
    check_structure,
    header_of,
    parse,
    read_inbound,
)
from tests.mappings.hl7v2.support import edit, golden

AT = datetime(2026, 11, 20, 14, 3, 11, tzinfo=UTC)
ORM = golden("orm-o01-knee-arthroplasty")  # MSH-15 AL, MSH-16 NE: enhanced mode
OMG = golden("omg-o19-lumbar-mri")  # no MSH-15/16: original mode
MISSING_NAME = Issue(
    Location("PID", 2, 1, 5, 1, 1), ErrorCode.required_field_missing, "the family name is missing"
)
UNSUPPORTED = Issue(Location("MSH", 1, 1, 12), ErrorCode.unsupported_version, "bad version")


def ack(original: bytes, issues: list[Issue], **options: object) -> Message:
    data = acknowledge(header_of(original), issues, control_id="ACK0001", at=AT, **options)
    return parse(data)


@pytest.mark.parametrize(
    ("original", "issues", "code"),
    [
        (OMG, [], "AA"),
        (OMG, [MISSING_NAME], "AE"),
        (OMG, [UNSUPPORTED], "AR"),
        (OMG, [MISSING_NAME, UNSUPPORTED], "AR"),
        (ORM, [], "CA"),
        (ORM, [MISSING_NAME], "CE"),
        (ORM, [UNSUPPORTED], "CR"),
        (b"no header at all", [Issue(Location(), ErrorCode.segment_sequence, "no MSH")], "AR"),
    ],
)
def test_code_follows_the_outcome_and_the_mode_asked_for(
    original: bytes, issues: list[Issue], code: str
) -> None:
    assert ack(original, issues).segments[1].value(1) == code


def test_mode_can_be_set_by_the_receiver() -> None:
    assert ack(ORM, [], mode=AckMode.original).segments[1].value(1) == "AA"
    assert ack(OMG, [], mode=AckMode.enhanced).segments[1].value(1) == "CA"


def test_header_answers_the_sender() -> None:
    msh, msa = ack(OMG, []).segments[:2]
    assert msa.value(2) == "OMG-20261120-0007"  # MSA-2 echoes MSH-10
    assert (msh.value(3), msh.value(4), msh.value(5), msh.value(6)) == (
        "CASEGATE",
        "CASEGATE",
        "EPIC",
        "GENHOSP",
    )
    assert msh.value(7) == "20261120140311+0000"
    assert (msh.value(9, 1), msh.value(9, 2), msh.value(9, 3)) == ("ACK", "O19", "ACK")
    assert (msh.value(10), msh.value(11), msh.value(12)) == ("ACK0001", "P", "2.5.1")


def test_err_says_where_and_why_from_v25() -> None:
    segments = ack(OMG, [MISSING_NAME, UNSUPPORTED]).segments
    assert [s.id for s in segments] == ["MSH", "MSA", "ERR", "ERR"]
    err = segments[2]
    assert err.field(2) == ((("PID",), ("1",), ("5",), ("1",), ("1",)),)
    assert err.field(3) == ((("101",), ("Required field missing",), ("HL70357",)),)
    assert err.value(4) == "E"
    assert err.value(7) == "the family name is missing"
    assert segments[3].field(2) == ((("MSH",), ("1",), ("12",)),)
    assert segments[1].value(3) == ""  # MSA-3 is deprecated from v2.5


def test_err_uses_eld_before_v25() -> None:
    old = edit(OMG, "MSH", 12, "2.4")
    segments = ack(old, [MISSING_NAME, UNSUPPORTED]).segments
    assert segments[0].value(12) == "2.4"
    assert segments[1].value(3) == "the family name is missing"  # MSA-3 text
    assert [s.id for s in segments] == ["MSH", "MSA", "ERR"]
    assert segments[2].field(1) == (
        (("PID",), ("1",), ("5",), ("101", "Required field missing", "HL70357")),
        (("MSH",), ("1",), ("12",), ("203", "Unsupported version id", "HL70357")),
    )


def test_warnings_alone_still_accept() -> None:
    note = Issue(Location("PV1", 3, 1, 2), ErrorCode.table_value_not_found, "odd", Severity.warning)
    segments = ack(OMG, [note]).segments
    assert segments[1].value(1) == "AA"
    assert segments[2].value(4) == "W"


@pytest.mark.parametrize("version", ["2.3", "2.4", "2.5.1", "2.8"])
def test_ack_meets_the_ack_structure_of_its_version(version: str) -> None:
    issues = [MISSING_NAME, UNSUPPORTED]
    answer = ack(edit(OMG, "MSH", 12, version), issues)
    check_structure(answer, "ACK", version)


def test_no_readable_header_still_gets_an_ack() -> None:
    issue = Issue(Location(), ErrorCode.segment_sequence, "x")
    segments = ack(b"\x0bgarbage\x1c\r", [issue]).segments
    assert segments[0].value(3) == "CASEGATE"
    assert segments[0].value(12) == "2.5.1"
    assert segments[1].value(2) == ""
    assert segments[2].field(2) == ()


def test_sender_names_the_ack_when_the_message_does_not() -> None:
    anonymous = edit(edit(OMG, "MSH", 5, ""), "MSH", 6, "")
    data = acknowledge(
        header_of(anonymous), control_id="A1", at=AT, sender=Sender("GATEWAY", "CG-EAST")
    )
    assert parse(data).header.value(3) == "GATEWAY"
    assert parse(data).header.value(4) == "CG-EAST"


def test_header_is_salvaged_from_a_message_that_does_not_parse() -> None:
    broken = ORM.replace(b"PID|1|", b"PID|1|\\X4\\")
    with pytest.raises(Hl7Error):
        read_inbound(broken)
    header = header_of(broken)
    assert header is not None and header.value(10) == "ORD000123"


def test_conversion_rejection_is_the_ack_the_sender_would_get() -> None:
    with pytest.raises(ConversionError) as caught:
        convert(edit(OMG, "PID", 7, "not-a-date"), "hl7v2", "canonical")
    assert [(e.location, e.message) for e in caught.value.errors] == [
        ("segment 2 PID-7", "the patient's birth date is not an HL7 date (YYYYMMDD...)")
    ]
    assert caught.value.rejection is not None
    rejection = parse(caught.value.rejection)
    assert rejection.segments[1].value(1) == "AE"
    assert rejection.segments[1].value(2) == "OMG-20261120-0007"
    assert rejection.segments[2].value(2, 1) == "PID"


def test_conversion_of_an_unsupported_message_prints_a_reject() -> None:
    with pytest.raises(ConversionError) as caught:
        convert(edit(OMG, "MSH", 9, "ORU^R01"), "hl7v2", "canonical")
    assert caught.value.rejection is not None
    assert parse(caught.value.rejection).segments[1].value(1) == "AR"
    assert json.dumps([e.location for e in caught.value.errors]) == '["segment 1 MSH-9.1"]'


@pytest.mark.parametrize(
    "header",
    [
        b"MSH|^~\\\\|EPIC|GENHOSP|CG|CG|20261120||ORM^O01|C77|P|2.5.1",
        b"MSH|^~\\&|EPIC|GENHOSP|CG|CG|20261120||ORM^O01|C77|P|2.5.1||||||KLINGON",
    ],
)
def test_a_header_that_does_not_parse_is_still_echoed(header: bytes) -> None:
    data = header + b"\rPID|1\r"
    with pytest.raises(Hl7Error) as caught:
        read_inbound(data)
    answer = parse(acknowledge(header_of(data), caught.value.issues, control_id="A", at=AT))
    assert answer.segments[1].value(1) == "AR"
    assert answer.segments[1].value(2) == "C77"
    assert answer.header.value(5) == "EPIC"
