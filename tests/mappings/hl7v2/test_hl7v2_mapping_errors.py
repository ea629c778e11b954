"""Missing or garbled data is a located error (segment, field, component), never a guess."""

from __future__ import annotations

import base64

import pytest

from mappings.hl7v2 import (
    ErrorCode,
    Hl7Error,
    Hl7MappingError,
    Hl7StructureError,
    Hl7UnsupportedError,
    read_inbound,
)
from mappings.hl7v2.events import PriorAuthorizationOrder
from tests.mappings.hl7v2.support import drop, edit, golden, insert_after

ORM = golden("orm-o01-knee-arthroplasty")
RDE = golden("rde-o11-infusion")
SIU = golden("siu-s12-booked")
MDM = golden("mdm-t02-pdf-progress-note")
ADT = golden("adt-a04-registered")
MISSING, TYPE, TABLE, TOO_LONG = (
    ErrorCode.required_field_missing,
    ErrorCode.data_type,
    ErrorCode.table_value_not_found,
    ErrorCode.value_too_long,
)


def located(value: object) -> str:
    """Test ids: the first expected location, not the whole message."""
    if isinstance(value, list) and value:
        return str(value[0][0])
    return "message"


def problems(data: bytes, error: type[Hl7Error] = Hl7MappingError) -> list[tuple[str, ErrorCode]]:
    with pytest.raises(error) as caught:
        read_inbound(data)
    return [(str(i.location), i.code) for i in caught.value.issues]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (edit(ORM, "PID", 5, "^Avery"), [("segment 2 PID-5.1", MISSING)]),
        (edit(ORM, "PID", 7, "1961-04-12"), [("segment 2 PID-7", TYPE)]),
        (edit(ORM, "PID", 7, ""), [("segment 2 PID-7", MISSING)]),
        (edit(ORM, "PID", 8, "Z"), [("segment 2 PID-8", TABLE)]),
        (edit(ORM, "PID", 11, "1 Main^^Town^Illinois"), [("segment 2 PID-11", TYPE)]),
        (drop(ORM, "IN1", "IN2"), [("IN1 (missing segment)", MISSING)]),
        (edit(ORM, "IN1", 3, ""), [("segment 4 IN1-3.1", MISSING)]),
        (edit(ORM, "IN1", 17, "XYZ"), [("segment 4 IN1-17.1", TABLE)]),
        (edit(edit(ORM, "IN1", 17, "MTH"), "IN1", 18, ""), [("segment 4 IN1-18", MISSING)]),
        (
            edit(edit(ORM, "IN1", 17, ""), "IN1", 16, "Otherperson^Sam"),
            [("segment 4 IN1-17.1", MISSING)],
        ),
        (edit(edit(ORM, "IN2", 61, ""), "IN1", 36, ""), [("segment 4 IN1-36", MISSING)]),
        (edit(ORM, "IN2", 61, "W 123"), [("segment 5 IN2-61.1", TYPE)]),
        (edit(ORM, "ORC", 1, "ZZ"), [("segment 6 ORC-1", TABLE)]),
        (edit(edit(ORM, "ORC", 2, ""), "OBR", 2, ""), [("segment 6 ORC-2.1", MISSING)]),
        (
            edit(edit(ORM, "ORC", 12, "1260181593^Ortho^Dana"), "OBR", 16, ""),
            [("segment 6 ORC-12", MISSING)],
        ),
        (
            edit(ORM, "ORC", 12, "1260181594^Ortho^Dana^^^^^^^^^^NPI"),
            [("segment 6 ORC-12.1", TYPE)],
        ),
        (edit(ORM, "ORC", 7, "1"), [("segment 6 ORC-7.4", MISSING)]),
        (edit(ORM, "ORC", 7, "1^^^2026-12-14"), [("segment 6 ORC-7.4", TYPE)]),
        (edit(ORM, "ORC", 7, "1^^^20261214^20261201"), [("segment 6 ORC-7.5", TYPE)]),
        (edit(ORM, "ORC", 7, "one^^^20261214"), [("segment 6 ORC-7.1", TYPE)]),
        (edit(ORM, "OBR", 4, "K1^Local knee^99LOC"), [("segment 7 OBR-4", MISSING)]),
        (edit(ORM, "OBR", 4, "2744^Knee^C4"), [("segment 7 OBR-4.1", TYPE)]),
        (edit(ORM, "OBR", 45, "RIGHT"), [("segment 7 OBR-45", TYPE)]),
        (
            edit(ORM, "DG1", 3, "715.16^Osteoarthrosis, knee^I9"),
            [("segment 9 DG1-3.3", TABLE)],
        ),
        (edit(ORM, "DG1", 3, "Q99999^x^SCT"), [("segment 9 DG1-3.3", TABLE)]),
        (edit(ORM, "DG1", 3, "M17.11X99^x^I10"), [("segment 9 DG1-3.1", TYPE)]),
        (drop(ORM, "DG1"), [("DG1 (missing segment)", MISSING)]),
    ],
    ids=located,
)
def test_order_problem_is_located(data: bytes, expected: list[tuple[str, ErrorCode]]) -> None:
    assert problems(data) == expected


def test_every_problem_is_reported_at_once() -> None:
    damaged = drop(edit(edit(ORM, "PID", 5, "^Avery"), "OBR", 4, "K1^^L"), "DG1")
    assert problems(damaged) == [
        ("segment 2 PID-5.1", MISSING),
        ("segment 7 OBR-4", MISSING),
        ("DG1 (missing segment)", MISSING),
    ]


def test_orders_in_one_message_share_their_control() -> None:
    second = insert_after(insert_after(ORM, "DG1", "ORC|CA|ORD-2026-0002"), "ORC", "OBR|2|X")
    assert problems(second) == [("segment 11 ORC-1", TABLE)]


def test_cancellation_needs_no_patient_data() -> None:
    cancelled = drop(edit(ORM, "ORC", 1, "CA"), "IN1", "IN2", "DG1")
    event = read_inbound(cancelled).event
    assert event.model_dump() == {"placer_order_numbers": ["ORD-2026-0001"], "reason_code": None}


def test_change_order_is_a_new_request_for_the_same_order() -> None:
    event = read_inbound(edit(ORM, "ORC", 1, "XO")).event
    assert isinstance(event, PriorAuthorizationOrder)
    assert event.control == "change"
    assert event.request.external_reference == "ORD-2026-0001"


def test_dependent_coverage_carries_the_subscriber() -> None:
    dependent = edit(edit(ORM, "IN1", 17, "FTH"), "IN1", 16, "Testpatient^Pat")
    event = read_inbound(edit(dependent, "IN1", 18, "19600101")).event
    assert isinstance(event, PriorAuthorizationOrder)
    coverage = event.request.coverage
    assert coverage.relationship == "child"
    assert coverage.subscriber is not None and coverage.subscriber.given == "Pat"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            edit(RDE, "RXE", 2, "00006302602^Keytruda^NDC"),
            [("segment 6 RXE-2.4", MISSING)],
        ),
        (edit(RDE, "RXE", 2, "J9271^Pembrolizumab^HCPCS"), [("segment 6 RXE-2.1", MISSING)]),
        (edit(RDE, "RXE", 11, "PUFF"), [("segment 6 RXE-11.1", TABLE)]),
        (edit(RDE, "RXE", 10, "eight"), [("segment 6 RXE-10", TYPE)]),
        (edit(RDE, "RXE", 10, "250000"), [("segment 6 RXE-10", TYPE)]),
        (
            edit(RDE, "RXE", 2, "0006-30-26^Keytruda^NDC^J9271^x^HCPCS"),
            [("segment 6 RXE-2.1", TYPE)],
        ),
        (edit(RDE, "RXE", 27, ""), [("DG1 (missing segment)", MISSING)]),
        (edit(RDE, "TQ1", 7, ""), [("segment 5 ORC-7.4", MISSING)]),
    ],
    ids=located,
)
def test_drug_order_problem_is_located(data: bytes, expected: list[tuple[str, ErrorCode]]) -> None:
    assert problems(data) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (edit(edit(SIU, "SCH", 1, ""), "SCH", 2, ""), [("segment 2 SCH-2.1", MISSING)]),
        (drop(SIU, "AIS"), [("AIS (missing segment)", MISSING)]),
        (edit(SIU, "AIS", 3, ""), [("segment 7 AIS-3.1", MISSING)]),
        (edit(SIU, "AIS", 3, "2744^Knee^C4"), [("segment 7 AIS-3.1", TYPE)]),
        (edit(SIU, "AIS", 4, "tomorrow"), [("segment 7 AIS-4.1", TYPE)]),
        (edit(SIU, "AIS", 8, "fortnight"), [("segment 7 AIS-8.1", TABLE)]),
        (edit(SIU, "AIS", 8, ""), [("segment 7 AIS-8.1", MISSING)]),
        (edit(SIU, "AIS", 7, "12.5"), [("segment 7 AIS-7", TYPE)]),
    ],
    ids=located,
)
def test_schedule_problem_is_located(data: bytes, expected: list[tuple[str, ErrorCode]]) -> None:
    assert problems(data) == expected


def test_a_cancelled_appointment_needs_no_service() -> None:
    event = read_inbound(golden("siu-s15-cancelled")).event
    assert event.model_dump()["services"] == []


def _ed(payload: str) -> str:
    return f"^AP^PDF^Base64^{payload}"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (edit(MDM, "OBX", 5, _ed("@@@")), [("segment 6 OBX-5.5", TYPE)]),
        (edit(MDM, "OBX", 5, "^AP^WAV^Base64^AAAA"), [("segment 6 OBX-5.3", TABLE)]),
        (edit(MDM, "OBX", 5, "^AP^PDF^UU^AAAA"), [("segment 6 OBX-5.4", TABLE)]),
        (edit(MDM, "OBX", 5, "^AP^PDF^Base64"), [("segment 6 OBX-5.5", MISSING)]),
        (
            insert_after(MDM, "OBX", "OBX|2|ED|X||^AP^PDF^Base64^AAAA"),
            [("segment 7 OBX-2", TYPE)],
        ),
        (edit(MDM, "OBX", 2, "NM"), [("OBX-5", MISSING)]),
        (
            edit(edit(MDM, "TXA", 2, ""), "TXA", 12, ""),
            [("segment 5 TXA-2", MISSING), ("segment 5 TXA-12.1", MISSING)],
        ),
    ],
    ids=located,
)
def test_document_problem_is_located(data: bytes, expected: list[tuple[str, ErrorCode]]) -> None:
    assert problems(data) == expected


def test_a_document_over_20_mb_is_refused_as_too_long() -> None:
    content = base64.b64encode(b"%PDF" + b"0" * (20 * 1024 * 1024)).decode()
    assert problems(edit(MDM, "OBX", 5, _ed(content))) == [("segment 6 OBX-5.5", TOO_LONG)]


def test_registration_locates_the_bad_coverage() -> None:
    assert problems(edit(ADT, "IN1", 4, "", occurrence=2)) == [("segment 6 IN1-4.1", MISSING)]


SECRET = "Zq Jane_Doe 1961"


@pytest.mark.parametrize(
    ("segment", "field"),
    [("PID", 7), ("PID", 8), ("PID", 11), ("IN1", 17), ("IN2", 61), ("ORC", 7), ("OBR", 4)],
)
def test_problems_never_quote_the_offending_value(segment: str, field: int) -> None:
    value = f"{SECRET}^{SECRET}^^{SECRET}^{SECRET}" if field in (7, 11) else SECRET
    with pytest.raises(Hl7MappingError) as caught:
        read_inbound(edit(ORM, segment, field, value))
    assert all(SECRET not in f"{issue}" for issue in caught.value.issues)


@pytest.mark.parametrize(
    ("field", "value", "where", "code"),
    [
        (9, "XYZ^Q01", "segment 1 MSH-9.1", ErrorCode.unsupported_message_type),
        (9, "ORM^O02", "segment 1 MSH-9.2", ErrorCode.unsupported_event),
        (9, "ORM", "segment 1 MSH-9.2", MISSING),
        (10, "", "segment 1 MSH-10", MISSING),
        (11, "X", "segment 1 MSH-11", ErrorCode.unsupported_processing_id),
        (12, "2.2", "segment 1 MSH-12", ErrorCode.unsupported_version),
    ],
)
def test_header_problems_are_unsupported_messages(
    field: int, value: str, where: str, code: ErrorCode
) -> None:
    assert problems(edit(ORM, "MSH", field, value), Hl7UnsupportedError) == [(where, code)]


def test_a_message_its_version_does_not_define_is_unsupported() -> None:
    old_omg = edit(golden("omg-o19-lumbar-mri"), "MSH", 12, "2.3")
    assert problems(old_omg, Hl7UnsupportedError) == [
        ("segment 1 MSH-9.2", ErrorCode.unsupported_event)
    ]


def test_segments_out_of_order_are_a_structure_error() -> None:
    misplaced = insert_after(ORM, "PID", "DG1|1||M17.11^OA^I10")
    assert problems(misplaced, Hl7StructureError) == [("segment 3 DG1", ErrorCode.segment_sequence)]


def test_long_order_notes_are_cut_with_a_visible_mark() -> None:
    long_note = insert_after(ORM, "NTE", "NTE|2|L|" + "x" * 2500)
    event = read_inbound(long_note).event
    assert isinstance(event, PriorAuthorizationOrder)
    notes = event.request.notes or ""
    assert len(notes) == 2000
    assert notes.startswith("Failed 6 months") and notes.endswith(" [truncated]")
