"""Every golden HL7 message converts to its golden canonical JSON, through the registry."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from canonical.cases import PriorAuthorizationRequest
from mappings.conversions import conversions, convert
from mappings.hl7v2 import document_content, parse, read_inbound, serialize
from mappings.hl7v2.events import DocumentEvent, PriorAuthorizationOrder, SchedulingEvent

GOLDEN = Path(__file__).parent / "golden"
MESSAGES = sorted(p.stem for p in GOLDEN.glob("*.hl7"))


def test_registered_with_the_conversion_registry() -> None:
    assert ("hl7v2", "canonical") in conversions()


def test_goldens_cover_every_supported_message_type() -> None:
    types = {
        read_inbound((GOLDEN / f"{name}.hl7").read_bytes()).header.type_event for name in MESSAGES
    }
    assert types == {
        "ORM^O01",
        "OMG^O19",
        "RDE^O11",
        "SIU^S12",
        "SIU^S13",
        "SIU^S15",
        "ADT^A04",
        "ADT^A08",
        "MDM^T02",
    }


@pytest.mark.parametrize("name", MESSAGES)
def test_message_converts_to_golden_json(name: str) -> None:
    converted = convert((GOLDEN / f"{name}.hl7").read_bytes(), "hl7v2", "canonical")
    assert json.loads(converted) == json.loads((GOLDEN / f"{name}.json").read_text())


@pytest.mark.parametrize("name", MESSAGES)
def test_golden_message_round_trips_through_the_codec(name: str) -> None:
    message = parse((GOLDEN / f"{name}.hl7").read_bytes())
    assert parse(serialize(message)) == message


OPENING = [n for n in MESSAGES if n.startswith(("orm", "omg", "rde")) and "cancel" not in n]


@pytest.mark.parametrize("name", OPENING)
def test_case_opening_output_feeds_the_canonical_conversion(name: str) -> None:
    """The envelope printed for an order is what `--from canonical` and the API accept."""
    converted = convert((GOLDEN / f"{name}.hl7").read_bytes(), "hl7v2", "canonical")
    document = json.loads(converted)
    assert document["case_type"] == "prior_authorization"
    again = json.loads(convert(converted, "canonical", "canonical"))
    assert again == {"case_type": "prior_authorization", "payload": document["payload"]}


def test_order_reads_what_each_version_puts_where() -> None:
    """v2.3 sender: LF segment ends in an MLLP frame, OBR-16 provider, OBR-31 diagnoses."""
    inbound = read_inbound((GOLDEN / "orm-o01-v23-dependent-two-orders.hl7").read_bytes())
    assert inbound.message.tolerated.lf_segment_ends == 8
    assert inbound.message.tolerated.framing_bytes == 0  # an intact frame is not a fault
    order = inbound.event
    assert isinstance(order, PriorAuthorizationOrder)
    request: PriorAuthorizationRequest = order.request
    assert [line.procedure_code for line in request.service_lines] == ["73721", "29888"]
    assert order.placer_order_numbers == ["LH-9001", "LH-9002"]
    assert request.urgency == "expedited"  # ORC-7.6 = S
    assert request.coverage.relationship == "child"  # IN1-17 MTH: the insured is the mother
    assert request.coverage.subscriber is not None
    assert request.coverage.subscriber.family == "Testparent"
    assert [d.code for d in request.diagnoses] == ["S83.511A"]  # one code, both orders


@pytest.mark.parametrize("name", ["mdm-t02-pdf-progress-note", "mdm-t02-text-operative-note"])
def test_document_content_is_what_the_attachment_describes(name: str) -> None:
    data = (GOLDEN / f"{name}.hl7").read_bytes()
    event = read_inbound(data).event
    assert isinstance(event, DocumentEvent)
    content = document_content(parse(data))
    assert len(content) == event.attachment.size
    assert hashlib.sha256(content).hexdigest() == event.attachment.sha256


def test_pdf_and_text_documents_decode_to_their_bytes() -> None:
    pdf = document_content(parse((GOLDEN / "mdm-t02-pdf-progress-note.hl7").read_bytes()))
    assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    text = document_content(parse((GOLDEN / "mdm-t02-text-operative-note.hl7").read_bytes()))
    assert text.decode().splitlines() == [
        "PROCEDURE: Right total knee arthroplasty.",
        "FINDINGS: Tricompartmental arthritis & bone loss.",
        "Tourniquet 58 min.",
    ]


def test_v23_schedule_takes_its_start_from_sch_11() -> None:
    data = (
        b"MSH|^~\\&|OLDPM|CLINIC|CG|CG|20061110||SIU^S14|S-1|P|2.3\r"
        b"SCH|A-1|F-1|||||||||^^^200612140930^200612141000\r"
        b"RGS|1\r"
        b"AIS|1||G0105^Colorectal cancer screening^HCPCS\r"
    )
    event = read_inbound(data).event
    assert isinstance(event, SchedulingEvent)
    assert event.action == "modified"
    (service,) = event.services
    assert (service.code, service.coding_system) == ("G0105", "HCPCS")
    assert service.start == datetime(2006, 12, 14, 9, 30)  # naive: the sender's local time
    assert service.duration_minutes is None


def _segment(segment_id: str, fields: dict[int, str]) -> str:
    return "|".join([segment_id, *(fields.get(n, "") for n in range(1, max(fields) + 1))])


def test_v23_pharmacy_order_is_rde_o01_with_timing_in_rxe_1() -> None:
    codes = "00006302602^Keytruda^NDC^J9271^Pembrolizumab^HCPCS"
    segments = [
        "MSH|^~\\&|OLDRX|CLINIC|CG|CG|20061110||RDE^O01|R-1|P|2.3",
        _segment("PID", {1: "1", 3: "M-9^^^C^MR", 5: "Example^Casey", 7: "19581130", 8: "F"}),
        _segment("IN1", {1: "1", 3: "SUNPLAN", 4: "Sunrise Health Plan", 17: "SEL", 36: "SUN-1"}),
        _segment("ORC", {1: "NW", 2: "RX-1", 12: "1443238807^Oncologist^Riley^^^^^^^^^^NPI"}),
        _segment(
            "RXE",
            {1: "^^^20061201^20070301", 2: codes, 3: "200", 5: "MG", 27: "C34.90^Lung^I10"},
        ),
        "RXR|IV",
    ]
    data = "\r".join(segments).encode()
    event = read_inbound(data).event
    assert isinstance(event, PriorAuthorizationOrder)
    (line,) = event.request.service_lines
    assert line.procedure_code == "J9271"
    assert line.drug is not None and (line.drug.quantity, line.drug.unit) == (200, "ME")
    assert (line.service_period.start, line.service_period.end) == (
        date(2006, 12, 1),
        date(2007, 3, 1),
    )
