"""Canonical prior-authorization request + case id -> a 278 request (005010X217).

The case id travels twice: as BHT03 (the submitter's transaction id) and as the patient event
TRN02, which the payer echoes in its response with TRN01 = 2; service lines carry their
sequence in their own TRN so item decisions find their line again. What the 278 cannot carry
(a 13th diagnosis, a note longer than one MSG, an NDC next to the procedure code) is returned
in `left_out`, never dropped silently. Three things are not sent by design: the plan name (the
payer knows its plans by member id), diagnosis descriptions (the code is the diagnosis) and
the caller's external reference (it is casegate's, not the payer's).
"""

from __future__ import annotations

from datetime import date, datetime

from canonical.cases import PriorAuthorizationRequest
from canonical.clinical import ServiceLine, UnitType
from canonical.parties import Relationship
from mappings.x12.body_writer import BodyWriter, LeftOut, open_body, period
from mappings.x12.delimiters import Delimiters
from mappings.x12.envelope import Interchange
from mappings.x12.envelope_builder import Group, InterchangeHeader, Transaction, build_interchange
from mappings.x12.segments import Segment
from mappings.x12.specs.x217_request import REFERENCE
from mappings.x12.vocabulary import (
    DEFAULT_ORIGINATOR,
    INPATIENT_PLACES,
    LEVEL_OF_SERVICE,
    RELATIONSHIP,
    SV1_UNITS,
    decimal_text,
    service_type,
)

MAX_DIAGNOSES = 12
MAX_ATTACHMENTS = 10


def request_body(
    case_id: str,
    request: PriorAuthorizationRequest,
    *,
    created: datetime,
    originator: str = DEFAULT_ORIGINATOR,
    delimiters: Delimiters | None = None,
) -> tuple[list[Segment], list[LeftOut]]:
    """The segments between ST and SE, and what did not fit."""
    w = open_body(delimiters, case_id, created, "0007", "13", originator=originator)
    payer = w.level(None, "20", True)
    w.party("X3", request.payer.name, "/payer/name", "PI", request.payer.id)
    requester = w.level(payer, "21", True)
    provider = request.requesting_provider
    w.party("1P", provider.name, "/requesting_provider/name", "XX", provider.npi)
    if provider.taxonomy:
        w.add("PRV", "RF", "PXC", provider.taxonomy)
    parent = _subscriber(w, request, requester)
    _event(w, case_id, request, parent, originator)
    return w.segments, w.left_out


def build_278_request(
    case_id: str,
    request: PriorAuthorizationRequest,
    header: InterchangeHeader,
    *,
    originator: str = DEFAULT_ORIGINATOR,
    transaction_number: str = "0001",
) -> tuple[Interchange, list[LeftOut]]:
    """A whole interchange holding the one 278 request; the group number is the ISA13's."""
    body, left_out = request_body(
        case_id,
        request,
        created=header.created,
        originator=originator,
        delimiters=header.delimiters,
    )
    transaction = Transaction("278", transaction_number, body)
    group = Group("HI", REFERENCE, header.control_number, [transaction])
    return build_interchange(header, [group]), left_out


def _subscriber(w: BodyWriter, request: PriorAuthorizationRequest, requester: int) -> int:
    coverage = request.coverage
    dependent = coverage.relationship is not Relationship.self_
    subscriber = coverage.subscriber if dependent and coverage.subscriber else request.patient
    where = "/coverage/subscriber" if dependent else "/patient"
    level = w.level(requester, "22", True)
    w.person_name("IL", subscriber, where, ["MI", coverage.member_id])
    if coverage.group_number:
        w.add("REF", "6P", w.text(coverage.group_number, 50, "/coverage/group_number"))
    if not dependent and request.patient.mrn:
        w.add("REF", "EJ", w.text(request.patient.mrn, 50, "/patient/mrn"))
    w.demographics(subscriber, where)
    if not dependent:
        return level
    level = w.level(level, "23", True)
    patient = request.patient
    w.person_name("QC", patient, "/patient", [])
    if patient.mrn:
        w.add("REF", "EJ", w.text(patient.mrn, 50, "/patient/mrn"))
    w.demographics(patient, "/patient")
    w.add("INS", "N", RELATIONSHIP[coverage.relationship])
    return level


def _event(
    w: BodyWriter, case_id: str, request: PriorAuthorizationRequest, parent: int, originator: str
) -> None:
    level = w.level(parent, "EV", True)
    w.add("TRN", "1", case_id, originator)
    lines = request.service_lines
    facility = request.facility
    place = (facility.place_of_service if facility else None) or lines[0].place_of_service
    w.add(
        "UM",
        "AR" if place in INPATIENT_PLACES else "HS",
        "I",
        service_type(lines[0].procedure_code),
        [place, "B"] if place else None,
        None,
        LEVEL_OF_SERVICE[request.urgency],
    )
    first_day = min(line.service_period.start for line in lines)
    w.add("DTP", "AAH", *period(first_day, _last_day(lines)))
    w.add(
        "HI",
        *(
            ["ABK" if index == 0 else "ABF", dx.code.replace(".", "")]
            for index, dx in enumerate(request.diagnoses[:MAX_DIAGNOSES])
        ),
    )
    for index in range(MAX_DIAGNOSES, len(request.diagnoses)):
        w.left_out.append(LeftOut(f"/diagnoses/{index}", "a 278 carries at most 12 diagnoses"))
    _attachments(w, request)
    if request.notes:
        w.add("MSG", w.text(request.notes, 264, "/notes"))
    if request.rendering_provider:
        rendering = request.rendering_provider
        w.party("SJ", rendering.name, "/rendering_provider/name", "XX", rendering.npi)
        if rendering.taxonomy:
            w.add("PRV", "PE", "PXC", rendering.taxonomy)
    if facility:
        w.party("FA", facility.name, "/facility/name", "XX", facility.npi)
        if facility.address:
            w.address(facility.address, "/facility/address")
    for index, line in enumerate(lines):
        w.level(level, "SS", False)
        _service(w, f"/service_lines/{index}", line, place, originator)


def _attachments(w: BodyWriter, request: PriorAuthorizationRequest) -> None:
    """PWK per attachment, sent electronically (EL) and named by its control number."""
    for index, attachment in enumerate(request.attachments):
        where = f"/attachments/{index}"
        if index >= MAX_ATTACHMENTS:
            w.left_out.append(LeftOut(where, "a 278 lists at most 10 attachments"))
            continue
        control = w.text(attachment.message_id or attachment.sha256, 80, f"{where}/message_id")
        title = w.text(attachment.title, 80, f"{where}/title")
        w.add("PWK", attachment.kind, "EL", None, None, "AC", control, title)


def _service(
    w: BodyWriter, where: str, line: ServiceLine, event_place: str | None, originator: str
) -> None:
    w.add("TRN", "1", str(line.sequence), originator)
    if line.place_of_service and line.place_of_service != event_place:
        w.add("UM", "HS", "I", None, [line.place_of_service, "B"])
    w.add("DTP", "472", *period(line.service_period.start, line.service_period.end))
    procedure = ["HC", line.procedure_code, *line.modifiers]
    if line.description:
        description = w.text(line.description, 80, f"{where}/description")
        procedure += [""] * (6 - len(procedure)) + [description]
    if line.unit_type is UnitType.days:
        w.add("SV1", procedure)
        w.add("HSD", "DY", decimal_text(line.units))
    else:
        w.add("SV1", procedure, None, SV1_UNITS[line.unit_type], decimal_text(line.units))
    if line.drug:
        w.left_out.append(
            LeftOut(f"{where}/drug", "a 278 service line carries one procedure code, not an NDC")
        )


def _last_day(lines: list[ServiceLine]) -> date:
    return max(line.service_period.end or line.service_period.start for line in lines)
