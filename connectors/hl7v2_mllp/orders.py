"""The EHR sandbox's orders: a canonical prior-authorization request written as the ORM^O01 an
EHR would send for it (one ORC/OBR per service line, DG1 per diagnosis, IN1 for the coverage).

This lets the demo and the benchmark send the same synthetic backlog over MLLP that the API
takes as JSON; the gateway's own mapping reads it back to the same request.
"""

from __future__ import annotations

from datetime import date, datetime

from canonical.cases import PriorAuthorizationRequest, Urgency
from canonical.clinical import ServiceLine
from canonical.codes import procedure_code_system
from canonical.parties import Provider
from mappings.hl7v2 import Message, Segment, serialize
from mappings.hl7v2.codec import Field, components
from mappings.hl7v2.vocabulary import SEX_CODE

NPI_AUTHORITY = ("NPI", "2.16.840.1.113883.4.6", "ISO")
PATIENT_CLASS = {"21": "I", "22": "O", "23": "E"}  # PV1-2 for a place of service
RELATIONSHIP_CODE = {"self": "SEL^Self^HL70063", "spouse": "SPO^Spouse^HL70063"}


def _dt(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def _provider(provider: Provider) -> Field:
    """XCN: NPI ^ name ^ ... ^ assigning authority (NPI & OID & ISO) ^ name type."""
    parts: list[tuple[str, ...]] = [(provider.npi,), (provider.name,), *[()] * 6]
    return (tuple([*parts, NPI_AUTHORITY, ("L",)]),)


def _fields(count: int) -> list[Field | str]:
    return [""] * count


def order_message(
    request: PriorAuthorizationRequest,
    *,
    control_id: str,
    placer_prefix: str,
    at: datetime,
    sending_application: str = "EHR",
    sending_facility: str = "GENHOSP",
) -> bytes:
    """ORM^O01 (v2.5.1, enhanced acknowledgement asked for); line n's placer order number is
    `{placer_prefix}-{n}`."""
    msh = Segment.of(
        "MSH",
        "|",
        "^~\\&",
        sending_application,
        sending_facility,
        "CASEGATE",
        "CASEGATE",
        at.strftime("%Y%m%d%H%M%S%z"),
        "",
        components("ORM", "O01", "ORM_O01"),
        control_id,
        "P",
        "2.5.1",
        "",
        "",
        "AL",
        "NE",
    )
    patient = request.patient
    pid = Segment.of(
        "PID",
        "1",
        "",
        components(patient.mrn, "", "", sending_facility, "MR") if patient.mrn else "",
        "",
        components(patient.family, patient.given),
        "",
        _dt(patient.birth_date),
        SEX_CODE[patient.sex],
    )
    place = request.service_lines[0].place_of_service
    pv1 = Segment.of("PV1", "1", PATIENT_CLASS.get(place or "", "O"))
    segments = [msh, pid, pv1, _in1(request)]
    for line in request.service_lines:
        segments.extend(_order(request, line, f"{placer_prefix}-{line.sequence}", at))
    for number, diagnosis in enumerate(request.diagnoses, start=1):
        coded = components(diagnosis.code, diagnosis.description or "", "I10")
        fields = _fields(15)
        fields[0], fields[2], fields[5], fields[14] = str(number), coded, "F", str(number)
        segments.append(Segment.of("DG1", *fields))
    return serialize(Message(tuple(segments)))


def _in1(request: PriorAuthorizationRequest) -> Segment:
    coverage, payer = request.coverage, request.payer
    fields = _fields(36)
    fields[0] = "1"
    fields[1] = components("", coverage.plan_name or "")
    fields[2] = payer.id
    fields[3] = payer.name
    fields[7] = coverage.group_number or ""
    fields[15] = components(request.patient.family, request.patient.given)
    relation = RELATIONSHIP_CODE.get(coverage.relationship.value, "SEL^Self^HL70063")
    fields[16] = components(*relation.split("^"))
    fields[17] = _dt(request.patient.birth_date)
    fields[35] = coverage.member_id
    return Segment.of("IN1", *fields)


def _order(
    request: PriorAuthorizationRequest, line: ServiceLine, placer: str, at: datetime
) -> list[Segment]:
    period = line.service_period
    priority = "S" if request.urgency is Urgency.expedited else "R"
    units = format(line.units.normalize(), "f")
    orc = _fields(12)
    orc[0] = "NW"
    orc[1] = components(placer, "EHR")
    orc[6] = components(units, "", "", _dt(period.start), _dt(period.end), priority)
    orc[8] = at.strftime("%Y%m%d%H%M%S")
    orc[11] = _provider(request.requesting_provider)
    system = "C4" if procedure_code_system(line.procedure_code) == "CPT" else "HCPCS"
    obr = _fields(45)
    obr[0] = str(line.sequence)
    obr[1] = components(placer, "EHR")
    obr[3] = components(line.procedure_code, line.description or "", system)
    obr[15] = _provider(request.requesting_provider)
    if line.modifiers:
        obr[44] = line.modifiers[0]
    return [Segment.of("ORC", *orc), Segment.of("OBR", *obr)]
