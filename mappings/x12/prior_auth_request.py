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

from dataclasses import dataclass, field
from datetime import date, datetime

from canonical.cases import PriorAuthorizationRequest
from canonical.clinical import ServiceLine, UnitType
from canonical.parties import Address, AdministrativeSex, Person, Relationship
from mappings.x12.delimiters import Delimiters
from mappings.x12.envelope import Interchange
from mappings.x12.envelope_builder import Group, InterchangeHeader, Transaction, build_interchange
from mappings.x12.errors import Location, X12Error
from mappings.x12.segments import Segment, Value, build
from mappings.x12.specs.x217_request import REFERENCE
from mappings.x12.vocabulary import (
    DEFAULT_ORIGINATOR,
    INPATIENT_PLACES,
    LEVEL_OF_SERVICE,
    RELATIONSHIP,
    SEX,
    SV1_UNITS,
    decimal_text,
    service_type,
)

MAX_DIAGNOSES = 12
MAX_ATTACHMENTS = 10


@dataclass(frozen=True, slots=True)
class LeftOut:
    """Part of the canonical request (a JSON pointer into it) that the 278 did not carry."""

    pointer: str
    reason: str


@dataclass(slots=True)
class _Writer:
    delimiters: Delimiters
    segments: list[Segment] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    hl: int = 0

    def add(self, segment_id: str, *elements: Value) -> None:
        self.segments.append(build(segment_id, *elements, delimiters=self.delimiters))

    def level(self, parent: int | None, code: str, children: bool) -> int:
        self.hl += 1
        self.add("HL", str(self.hl), str(parent or ""), code, "1" if children else "0")
        return self.hl

    def party(self, entity: str, name: str, pointer: str, qualifier: str, ident: str) -> None:
        """NM1 of an organization, or a provider known by one name: NM102 = 2, name in NM103."""
        self.add("NM1", entity, "2", self.text(name, 60, pointer), *_gap(4), qualifier, ident)

    def text(self, value: str | None, limit: int, pointer: str) -> str:
        """`value` fit for an element: delimiters replaced, cut to `limit`, both reported."""
        if not value:
            return ""
        if self.delimiters.release is None and any(c in self.delimiters.all for c in value):
            value = "".join(" " if c in self.delimiters.all else c for c in value)
            self.left_out.append(LeftOut(pointer, "delimiter characters were sent as spaces"))
        if len(value) > limit:
            value = value[:limit]
            self.left_out.append(LeftOut(pointer, f"cut to the {limit} characters X12 allows"))
        return value


def request_body(
    case_id: str,
    request: PriorAuthorizationRequest,
    *,
    created: datetime,
    originator: str = DEFAULT_ORIGINATOR,
    delimiters: Delimiters | None = None,
) -> tuple[list[Segment], list[LeftOut]]:
    """The segments between ST and SE, and what did not fit."""
    if not 1 <= len(case_id) <= 50 or not case_id.isascii() or not case_id.isprintable():
        raise X12Error("a case id is 1 to 50 printable ASCII characters", Location(None, "BHT", 3))
    if len(originator) != 10:
        raise X12Error("the trace originator is 10 characters", Location(None, "TRN", 3))
    w = _Writer(delimiters or Delimiters())
    w.add("BHT", "0007", "13", case_id, created.strftime("%Y%m%d"), created.strftime("%H%M"))
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


def _gap(count: int) -> list[str]:
    return [""] * count


def _subscriber(w: _Writer, request: PriorAuthorizationRequest, requester: int) -> int:
    coverage = request.coverage
    dependent = coverage.relationship is not Relationship.self_
    subscriber = coverage.subscriber if dependent and coverage.subscriber else request.patient
    where = "/coverage/subscriber" if dependent else "/patient"
    level = w.level(requester, "22", True)
    _person_name(w, "IL", subscriber, where, ["MI", coverage.member_id])
    if coverage.group_number:
        w.add("REF", "6P", w.text(coverage.group_number, 50, "/coverage/group_number"))
    if not dependent and request.patient.mrn:
        w.add("REF", "EJ", w.text(request.patient.mrn, 50, "/patient/mrn"))
    _demographics(w, subscriber, where)
    if not dependent:
        return level
    level = w.level(level, "23", True)
    patient = request.patient
    _person_name(w, "QC", patient, "/patient", [])
    if patient.mrn:
        w.add("REF", "EJ", w.text(patient.mrn, 50, "/patient/mrn"))
    _demographics(w, patient, "/patient")
    w.add("INS", "N", RELATIONSHIP[coverage.relationship])
    return level


def _person_name(w: _Writer, entity: str, person: Person, where: str, ident: list[str]) -> None:
    family = w.text(person.family, 60, f"{where}/family")
    given = w.text(person.given, 35, f"{where}/given")
    w.add("NM1", entity, "1", family, given, *_gap(3), *ident)


def _demographics(w: _Writer, person: Person, where: str) -> None:
    if person.address:
        _address(w, person.address, f"{where}/address")
    w.add("DMG", "D8", person.birth_date.strftime("%Y%m%d"), SEX[person.sex])
    if person.sex is AdministrativeSex.other:
        w.left_out.append(LeftOut(f"{where}/sex", "X12 has no code for 'other'; sent as U"))


def _address(w: _Writer, address: Address, where: str) -> None:
    lines = [w.text(line, 55, f"{where}/line/{i}") for i, line in enumerate(address.line[:2])]
    if len(address.line) > 2:
        w.left_out.append(LeftOut(f"{where}/line/2", "an X12 address has two lines"))
    if lines:
        w.add("N3", *lines)
    if address.city:
        postal = (address.postal_code or "").replace("-", "")
        w.add("N4", w.text(address.city, 30, f"{where}/city"), address.state, postal)
    elif address.state or address.postal_code:
        w.left_out.append(LeftOut(where, "state and postal code need a city in X12 (N4)"))


def _event(
    w: _Writer, case_id: str, request: PriorAuthorizationRequest, parent: int, originator: str
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
    w.add("DTP", "AAH", *_period(first_day, _last_day(lines)))
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
            _address(w, facility.address, "/facility/address")
    for index, line in enumerate(lines):
        w.level(level, "SS", False)
        _service(w, f"/service_lines/{index}", line, place, originator)


def _attachments(w: _Writer, request: PriorAuthorizationRequest) -> None:
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
    w: _Writer, where: str, line: ServiceLine, event_place: str | None, originator: str
) -> None:
    w.add("TRN", "1", str(line.sequence), originator)
    if line.place_of_service and line.place_of_service != event_place:
        w.add("UM", "HS", "I", None, [line.place_of_service, "B"])
    w.add("DTP", "472", *_period(line.service_period.start, line.service_period.end))
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


def _period(start: date, end: date | None) -> list[str]:
    if end is None or end == start:
        return ["D8", start.strftime("%Y%m%d")]
    return ["RD8", f"{start:%Y%m%d}-{end:%Y%m%d}"]


def _last_day(lines: list[ServiceLine]) -> date:
    return max(line.service_period.end or line.service_period.start for line in lines)
