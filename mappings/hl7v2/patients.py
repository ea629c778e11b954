"""PID -> canonical Patient, IN1/IN2 -> Payer and Coverage: shared by orders and registrations."""

from __future__ import annotations

from dataclasses import dataclass

from canonical.base import Period
from canonical.parties import Coverage, Patient, Payer, Person, Relationship
from mappings.hl7v2.errors import Location
from mappings.hl7v2.events import InsuredCoverage
from mappings.hl7v2.reading import Findings, Placed, identifier, person_name, read_date, read_dtm
from mappings.hl7v2.vocabulary import RELATIONSHIP, SEX


@dataclass(frozen=True, slots=True)
class Insurance:
    """An IN1 with the IN2 that follows it, as the INSURANCE group pairs them."""

    in1: Placed
    in2: Placed | None


def insurances(segments: list[Placed]) -> list[Insurance]:
    found: list[Insurance] = []
    for position, segment in enumerate(segments):
        if segment.id == "IN1":
            following = segments[position + 1] if position + 1 < len(segments) else None
            in2 = following if following is not None and following.id == "IN2" else None
            found.append(Insurance(segment, in2))
    return found


def mrn(pid: Placed) -> str | None:
    return identifier(pid.repetitions(3), "MR") or None


def read_patient(pid: Placed, findings: Findings) -> Patient | None:
    read = _person(pid, findings, name=5, birth=7, sex=8, address=11, who="the patient")
    if read is None:
        return None
    fields, sources = read
    return findings.build(
        Patient, {**fields, "mrn": mrn(pid)}, {**sources, "mrn": pid.at(3)}, pid.at()
    )


def _person(
    segment: Placed, findings: Findings, *, name: int, birth: int, sex: int, address: int, who: str
) -> tuple[dict[str, object], dict[str, Location]] | None:
    """A Person's fields and where each came from; None (with findings) when one is unusable."""
    before = len(findings.issues)
    family, given = person_name(segment.repetitions(name))
    if not family:
        findings.missing(segment.at(name, 1), f"{who}'s family name")
    if not given:
        findings.missing(segment.at(name, 2), f"{who}'s given name")
    birth_date = read_date(
        findings, segment.at(birth), segment.value(birth), f"{who}'s birth date", required=True
    )
    sex_code = segment.value(sex).upper()
    if sex_code not in SEX:
        findings.unknown(segment.at(sex), "administrative sex is not a code of table 0001")
    if len(findings.issues) > before:
        return None
    fields: dict[str, object] = {
        "family": family,
        "given": given,
        "birth_date": birth_date,
        "sex": SEX[sex_code],
        "address": _address(segment, address),
    }
    sources = {
        "family": segment.at(name, 1),
        "given": segment.at(name, 2),
        "birth_date": segment.at(birth),
        "sex": segment.at(sex),
        "address": segment.at(address),
    }
    return fields, sources


def _address(segment: Placed, field: int) -> dict[str, object] | None:
    value = segment.value
    postal = value(field, 5)
    if len(postal) == 9 and postal.isdigit():
        postal = f"{postal[:5]}-{postal[5:]}"
    address: dict[str, object] = {
        "line": [v for v in (value(field, 1), value(field, 2)) if v],
        "city": value(field, 3) or None,
        "state": value(field, 4).upper() or None,
        "postal_code": postal or None,
    }
    return address if any(address.values()) else None


def read_insured(
    insurance: Insurance, patient: Patient | None, position: int, findings: Findings
) -> InsuredCoverage | None:
    in1, in2 = insurance.in1, insurance.in2
    before = len(findings.issues)
    payer_id, payer_name = in1.value(3, 1), in1.value(4, 1)
    if not payer_id:
        findings.missing(in1.at(3, 1), "the insurance company id")
    if not payer_name:
        findings.missing(in1.at(4, 1), "the insurance company name")
    candidates = [(in1.at(36), in1.value(36)), (in1.at(49, 1), in1.value(49, 1))]
    if in2 is not None:
        candidates.insert(0, (in2.at(61, 1), in2.value(61, 1)))
    member_at, member_id = next(((w, t) for w, t in candidates if t), (in1.at(36), ""))
    if not member_id:
        findings.missing(member_at, "the member id (IN2-61, IN1-36 or IN1-49)")
    relationship = _relationship(in1, patient, findings)
    subscriber = None
    if relationship is not None and relationship is not Relationship.self_:
        read = _person(in1, findings, name=16, birth=18, sex=43, address=19, who="the insured")
        if read is not None:
            subscriber = findings.build(Person, read[0], read[1], in1.at(16))
    priority = _priority(in1, position, findings)
    period = _period(in1, findings)
    if len(findings.issues) > before:
        return None
    payer = findings.build(
        Payer,
        {"id": payer_id, "name": payer_name},
        {"id": in1.at(3, 1), "name": in1.at(4, 1)},
        in1.at(3),
    )
    coverage = findings.build(
        Coverage,
        {
            "member_id": member_id,
            "group_number": in1.value(8) or None,
            "plan_name": in1.value(2, 2) or None,
            "relationship": relationship,
            "subscriber": subscriber,
        },
        {
            "member_id": member_at,
            "group_number": in1.at(8),
            "plan_name": in1.at(2, 2),
            "relationship": in1.at(17),
            "subscriber": in1.at(16),
        },
        in1.at(),
    )
    if payer is None or coverage is None:
        return None
    return InsuredCoverage(priority=priority, payer=payer, coverage=coverage, period=period)


def _relationship(in1: Placed, patient: Patient | None, findings: Findings) -> Relationship | None:
    code = in1.value(17, 1).upper()
    if code:
        relationship = RELATIONSHIP.get(code)
        if relationship is None:
            findings.unknown(in1.at(17, 1), "not a relationship code of table 0063")
        return relationship
    # Without IN1-17 the insured is the patient only when IN1 names no one else.
    family, given = person_name(in1.repetitions(16))
    birth = read_dtm(in1.value(18))
    named_other = bool(family) and (
        patient is None
        or (family.casefold(), given.casefold())
        != (patient.family.casefold(), patient.given.casefold())
    )
    born_other = bool(in1.value(18)) and (
        patient is None or birth is None or birth[0] != patient.birth_date
    )
    if named_other or born_other:
        findings.missing(in1.at(17, 1), "the insured's relationship to the patient")
        return None
    return Relationship.self_


def _priority(in1: Placed, position: int, findings: Findings) -> int | None:
    set_id = in1.value(1)
    if not set_id:
        return position  # a set id is the ordinal by definition
    if not set_id.isdigit() or int(set_id) < 1:
        findings.invalid(in1.at(1), "the set id must be a positive whole number")
        return None
    return int(set_id)


def _period(in1: Placed, findings: Findings) -> Period | None:
    start = read_date(findings, in1.at(12), in1.value(12), "the plan effective date")
    end = read_date(findings, in1.at(13), in1.value(13), "the plan expiration date")
    if start is None:
        return None
    return findings.build(Period, {"start": start, "end": end}, {"end": in1.at(13)}, in1.at(12))
