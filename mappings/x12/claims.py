"""Canonical `Claim` <-> 837P (005010X222A1) and 837I (005010X223A2).

The claim's kind picks the guide. BHT03 carries the case id; CLM01 the patient account
number, which the payer echoes as CLP01 in its 835, so remittances find their claim. The
submitter (1000A) is the interchange sender, the receiver (1000B) the payer. What an 837
cannot carry (a 13th professional diagnosis, an address without its street line) is
returned as `LeftOut`, never dropped silently.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from canonical.claims import Claim, ClaimKind, ClaimLine
from canonical.clinical import UnitType
from canonical.parties import Relationship
from mappings.x12.body_writer import BodyWriter, LeftOut, open_body, period
from mappings.x12.delimiters import Delimiters
from mappings.x12.errors import CanonicalMappingError, Location, X12Error
from mappings.x12.loop_tree import LoopNode
from mappings.x12.segments import Segment
from mappings.x12.specs.x222_x223_claims import INSTITUTIONAL, PROFESSIONAL
from mappings.x12.tree_reading import (
    address,
    dtp_period,
    first_loop,
    needed,
    payer_party,
    person,
    present,
    provider,
    ref_value,
)
from mappings.x12.vocabulary import RELATIONSHIP, RELATIONSHIP_FROM_X12, decimal_text

GUIDE = {ClaimKind.professional: PROFESSIONAL, ClaimKind.institutional: INSTITUTIONAL}
KIND = {PROFESSIONAL: ClaimKind.professional, INSTITUTIONAL: ClaimKind.institutional}
MAX_PROFESSIONAL_DIAGNOSES = 12
DIAGNOSES_PER_HI = 12
FILING_INDICATOR = "CI"  # commercial insurance; the payer route may say otherwise


def claim_body(
    case_id: str,
    claim: Claim,
    *,
    created: datetime,
    submitter_id: str,
    receiver_id: str,
    delimiters: Delimiters | None = None,
) -> tuple[list[Segment], list[LeftOut]]:
    """The segments of an 837 between ST and SE, and what did not fit."""
    w = open_body(delimiters, case_id, created, "0019", "00", "CH")
    billing = claim.billing_provider
    w.party("41", billing.name, "/billing_provider/name", "46", submitter_id)
    w.add("PER", "IC", w.text(billing.name, 60, "/billing_provider/name"))
    w.party("40", claim.payer.name, "/payer/name", "46", receiver_id)
    top = w.level(None, "20", True)
    if billing.taxonomy:
        w.add("PRV", "BI", "PXC", billing.taxonomy)
    w.party("85", billing.name, "/billing_provider/name", "XX", billing.npi)
    if not billing.address.line or not billing.address.city:
        w.left_out.append(LeftOut("/billing_provider/address", "an 837 needs street and city"))
    w.address(billing.address, "/billing_provider/address")
    w.add("REF", "EI", billing.tax_id)
    _people(w, claim, top)
    _claim(w, claim)
    for index, line in enumerate(claim.service_lines):
        _line(w, claim, line, index)
    return w.segments, w.left_out


def _people(w: BodyWriter, claim: Claim, top: int) -> None:
    coverage = claim.coverage
    dependent = coverage.relationship is not Relationship.self_
    subscriber = coverage.subscriber if dependent and coverage.subscriber else claim.patient
    where = "/coverage/subscriber" if dependent else "/patient"
    level = w.level(top, "22", dependent)
    group = w.text(coverage.group_number, 50, "/coverage/group_number")
    plan = w.text(coverage.plan_name, 60, "/coverage/plan_name") if not group else ""
    w.add("SBR", "P", "" if dependent else "18", group, plan, *[""] * 4, FILING_INDICATOR)
    w.person_name("IL", subscriber, where, ["MI", coverage.member_id])
    w.demographics(subscriber, where)
    w.party("PR", claim.payer.name, "/payer/name", "PI", claim.payer.id)
    if dependent:
        w.level(level, "23", False)
        w.add("PAT", RELATIONSHIP[coverage.relationship])
        w.person_name("QC", claim.patient, "/patient", [])
        w.demographics(claim.patient, "/patient")


def _claim(w: BodyWriter, claim: Claim) -> None:
    account = w.text(claim.patient_account_number, 38, "/patient_account_number")
    total = decimal_text(claim.total_charge)
    if claim.kind is ClaimKind.professional:
        place = [claim.place_of_service or "", "B", claim.frequency_code]
        w.add("CLM", account, total, None, None, place, "Y", "A", "Y", "Y")
    else:
        facility = [claim.facility_type or "", "A", claim.frequency_code]
        w.add("CLM", account, total, None, None, facility, None, "A", "Y", "Y")
        statement = claim.statement_period
        if statement is not None:
            end = statement.end or statement.start
            w.add("DTP", "434", "RD8", f"{statement.start:%Y%m%d}-{end:%Y%m%d}")
        w.add("CL1", claim.admission_type, claim.admission_source, claim.patient_status)
    if claim.prior_authorization_number:
        number = w.text(claim.prior_authorization_number, 50, "/prior_authorization_number")
        w.add("REF", "G1", number)
    _diagnoses(w, claim)
    rendering = claim.rendering_provider
    if rendering is not None:
        entity, role = ("82", "PE") if claim.kind is ClaimKind.professional else ("71", "AT")
        w.party(entity, rendering.name, "/rendering_provider/name", "XX", rendering.npi)
        if rendering.taxonomy:
            w.add("PRV", role, "PXC", rendering.taxonomy)


def _diagnoses(w: BodyWriter, claim: Claim) -> None:
    codes = [d.code.replace(".", "") for d in claim.diagnoses]
    if claim.kind is ClaimKind.professional:
        kept = codes[:MAX_PROFESSIONAL_DIAGNOSES]
        w.add("HI", *(["ABK" if i == 0 else "ABF", c] for i, c in enumerate(kept)))
        for index in range(MAX_PROFESSIONAL_DIAGNOSES, len(codes)):
            w.left_out.append(LeftOut(f"/diagnoses/{index}", "an 837P carries 12 diagnoses"))
        return
    w.add("HI", ["ABK", codes[0]])
    others = codes[1:]
    for start in range(0, len(others), DIAGNOSES_PER_HI):
        w.add("HI", *(["ABF", c] for c in others[start : start + DIAGNOSES_PER_HI]))


def _line(w: BodyWriter, claim: Claim, line: ClaimLine, index: int) -> None:
    where = f"/service_lines/{index}"
    w.add("LX", str(index + 1))
    procedure = ["HC", line.procedure_code, *line.modifiers] if line.procedure_code else None
    units = decimal_text(line.units)
    if claim.kind is ClaimKind.professional:
        unit = "MJ" if line.unit_type is UnitType.minutes else "UN"
        if line.unit_type is UnitType.days:
            w.left_out.append(LeftOut(f"{where}/unit_type", "an 837P counts units, not days"))
        place = line.place_of_service if line.place_of_service != claim.place_of_service else None
        pointers = [str(p) for p in line.diagnosis_pointers]
        w.add("SV1", procedure, decimal_text(line.charge), unit, units, place, None, pointers)
    else:
        unit = "DA" if line.unit_type is UnitType.days else "UN"
        w.add("SV2", line.revenue_code, procedure, decimal_text(line.charge), unit, units)
    w.add("DTP", "472", *period(line.service_period.start, line.service_period.end))
    if line.line_control_number:
        w.add("REF", "6R", w.text(line.line_control_number, 50, f"{where}/line_control_number"))


def read_837(tree: LoopNode, reference: str) -> tuple[str, Claim]:
    """An 837's case id (BHT03) and canonical claim; `reference` names the guide (ST03/GS08)."""
    bht = needed(tree.segment("BHT"), "BHT")
    billing_level = first_loop(tree, "2000A")
    billing_name = first_loop(billing_level, "2010AA")
    subscriber_level = first_loop(billing_level, "2000B")
    subscriber_name = first_loop(subscriber_level, "2010BA")
    payer = payer_party(first_loop(subscriber_level, "2010BB"))
    patients = subscriber_level.loops("2000C")
    patient_level = patients[0] if patients else subscriber_level
    patient_name = first_loop(patient_level, "2010CA") if patients else subscriber_name
    claim = first_loop(patient_level, "2300")
    clm = needed(claim.segment("CLM"), "CLM")
    sbr = subscriber_level.segment("SBR")
    kind = KIND.get(reference)
    if kind is None:
        raise X12Error("not an 837P or 837I guide", Location(None, "ST", 3))
    taxonomy = billing_level.segment("PRV")
    document: dict[str, Any] = {
        "kind": kind.value,
        "patient": person(patient_name),
        "coverage": present(
            member_id=needed(subscriber_name.segment("NM1"), "NM1").get(9),
            group_number=sbr.get(3) if sbr else None,
            plan_name=sbr.text(4) if sbr else None,
            relationship=_relationship(patient_level) if patients else "self",
            subscriber=person(subscriber_name) if patients else None,
        ),
        "payer": payer,
        "patient_account_number": clm.get(1),
        "total_charge": clm.get(2),
        "frequency_code": clm.component(5, 3) or "1",
        "billing_provider": provider(billing_name)
        | present(
            tax_id=ref_value(billing_name, "EI") or ref_value(billing_name, "SY"),
            address=address(billing_name),
            taxonomy=taxonomy.get(3) if taxonomy else None,
        ),
        "prior_authorization_number": ref_value(claim, "G1"),
        "diagnoses": [
            {"code": hi.component(i, 2)}
            for hi in claim.segments("HI")
            for i in range(1, len(hi) + 1)
            if hi.component(i, 1) in ("ABK", "ABF", "BK", "BF") and hi.component(i, 2)
        ],
        "service_lines": [
            _read_line(node, index, kind) for index, node in enumerate(claim.loops("2400"))
        ],
    }
    document |= _kind_fields(claim, clm, kind)
    rendering = next(
        (n for n in claim.loops("2310B" if kind is ClaimKind.professional else "2310A")), None
    )
    if rendering is not None:
        document["rendering_provider"] = provider(rendering)
    try:
        return bht.get(3), Claim.model_validate(_without_empty(document))
    except ValidationError as exc:
        raise CanonicalMappingError.refused(exc) from None


def _kind_fields(claim: LoopNode, clm: Segment, kind: ClaimKind) -> dict[str, Any]:
    if kind is ClaimKind.professional:
        return {"place_of_service": clm.component(5, 1)}
    statement = claim.segment("DTP", "434")
    cl1 = claim.segment("CL1")
    return present(
        facility_type=clm.component(5, 1),
        statement_period=dtp_period(statement) if statement else None,
        admission_type=cl1.get(1) if cl1 else None,
        admission_source=cl1.get(2) if cl1 else None,
        patient_status=cl1.get(3) if cl1 else None,
    )


def _relationship(level: LoopNode) -> str:
    pat = level.segment("PAT")
    found = RELATIONSHIP_FROM_X12.get(pat.get(1) if pat else "", Relationship.other)
    return found.value


def _read_line(node: LoopNode, index: int, kind: ClaimKind) -> dict[str, Any]:
    dates = node.segment("DTP", "472")
    line: dict[str, Any] = present(
        sequence=index + 1,
        service_period=dtp_period(dates) if dates else None,
        line_control_number=ref_value(node, "6R"),
    )
    if kind is ClaimKind.professional:
        service = needed(node.segment("SV1"), "SV1")
        procedure = service.components(1)
        line |= present(
            charge=service.get(2),
            unit_type="MJ" if service.get(3) == "MJ" else "UN",
            units=service.get(4),
            place_of_service=service.get(5),
        )
        line["diagnosis_pointers"] = [int(p) for p in service.components(7) if p.isdigit()]
    else:
        service = needed(node.segment("SV2"), "SV2")
        procedure = service.components(2)
        line |= present(
            revenue_code=service.get(1),
            charge=service.get(3),
            unit_type="DA" if service.get(4) == "DA" else "UN",
            units=service.get(5),
        )
    if len(procedure) > 1 and procedure[1]:
        line["procedure_code"] = procedure[1]
        line["modifiers"] = [m for m in procedure[2:6] if m]
    return line


def _without_empty(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if v not in (None, "")}
