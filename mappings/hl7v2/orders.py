"""ORM^O01, OMG^O19 and RDE^O11 -> a prior-authorization request, or an order cancellation.

One message is one request, each order (ORC with its OBR or RXE) one service line, in message
order. The request carries only what the message says: a required value it lacks is a located
error, never filled in.
"""

from __future__ import annotations

from canonical.cases import PriorAuthorizationRequest
from canonical.clinical import Diagnosis
from canonical.parties import Provider
from mappings.hl7v2.codec import Message, Repetition, leaf
from mappings.hl7v2.errors import Location
from mappings.hl7v2.events import OrderCancellation, PriorAuthorizationOrder
from mappings.hl7v2.order_lines import Order, notes, service_line, urgency
from mappings.hl7v2.patients import insurances, read_insured, read_patient
from mappings.hl7v2.reading import Findings, Placed, codings, is_npi, placed, provider_name
from mappings.hl7v2.vocabulary import (
    ICD9_SYSTEMS,
    ICD10CM_SYSTEMS,
    ORDER_CONTROL,
    PLACE_OF_SERVICE,
    OrderControl,
)

MAX_DIAGNOSES = 25


def map_order(message: Message, *, drug: bool) -> PriorAuthorizationOrder | OrderCancellation:
    """`drug` reads each order's RXE (RDE^O11) where an ORM or OMG has an OBR."""
    segments = placed(message)
    findings = Findings()
    orders: list[Order] = []
    for segment in segments:
        if segment.id == "ORC":
            orders.append(Order(segment, drug=drug))
        elif orders:
            orders[-1].detail.append(segment)
    control = _control(orders, findings)
    numbers = [_placer_number(order, findings) for order in orders]
    findings.check()
    if control is OrderControl.cancel:
        reason = orders[0].orc.value(16, 1) or None
        return OrderCancellation(placer_order_numbers=numbers, reason_code=reason)
    return PriorAuthorizationOrder(
        control=control,
        placer_order_numbers=numbers,
        placer_group_number=orders[0].orc.value(4, 1) or None,
        request=_request(segments, orders, numbers[0], findings),
    )


def _control(orders: list[Order], findings: Findings) -> OrderControl:
    controls: list[OrderControl] = []
    for order in orders:
        code = order.orc.value(1).upper()
        control = ORDER_CONTROL.get(code)
        if not code:
            findings.missing(order.orc.at(1), "the order control code")
        elif control is None:
            findings.unknown(order.orc.at(1), "order control must be NW, XO, XX, CA, DC, OC or OD")
        elif controls and control is not controls[0]:
            findings.unknown(order.orc.at(1), "orders in one message must share one order control")
        else:
            controls.append(control)
    return controls[0] if controls else OrderControl.new


def _placer_number(order: Order, findings: Findings) -> str:
    obr = order.first("OBR")
    number = order.orc.value(2, 1) or (obr.value(2, 1) if obr else "")
    if not number:
        findings.missing(order.orc.at(2, 1), "the placer order number (ORC-2 or OBR-2)")
    return number


def _request(
    segments: list[Placed], orders: list[Order], placer_number: str, findings: Findings
) -> PriorAuthorizationRequest:
    pid = next((s for s in segments if s.id == "PID"), None)
    patient = read_patient(pid, findings) if pid else None
    if pid is None:
        findings.missing(Location("PID"), "the patient (PID)")
    found = insurances(segments)
    insured = read_insured(found[0], patient, 1, findings) if found else None
    if not found:
        findings.missing(Location("IN1"), "the patient's insurance (IN1)")
    pv1 = next((s for s in segments if s.id == "PV1"), None)
    place = PLACE_OF_SERVICE.get(pv1.value(2)) if pv1 else None
    lines = [service_line(order, n, place, findings) for n, order in enumerate(orders, start=1)]
    diagnoses = _diagnoses(orders, findings)
    provider = _ordering_provider(orders, findings)
    findings.check()
    first = orders[0]
    data = {
        "urgency": urgency(first),
        "patient": patient,
        "coverage": insured.coverage if insured else None,
        "payer": insured.payer if insured else None,
        "requesting_provider": provider,
        "diagnoses": diagnoses,
        "service_lines": lines,
        "notes": notes(orders),
        "external_reference": first.orc.value(4, 1) or placer_number,
    }
    sources = {
        "diagnoses": Location("DG1"),
        "service_lines": first.orc.at(),
        "notes": Location("NTE"),
        "external_reference": first.orc.at(4),
    }
    return findings.build_or_raise(PriorAuthorizationRequest, data, sources, first.orc.at())


def _diagnosis_sources(orders: list[Order]) -> list[tuple[Placed, int, int, Repetition, bool]]:
    """(segment, field, repetition, value, principal) for each coded diagnosis, DG1 first.

    ORM and OMG carry DG1 segments, else OBR-31 (reason for study); RDE has RXE-27 (give
    indication). DG1-15 = 1 marks the principal diagnosis.
    """
    found = []
    for order in orders:
        for dg1 in order.all("DG1"):
            for repetition in dg1.repetitions(3)[:1]:
                found.append((dg1, 3, 1, repetition, dg1.value(15) == "1"))
    if found:
        return found
    for order in orders:
        service = order.service
        field_number = 27 if order.drug else 31
        if service is not None:
            for number, repetition in enumerate(service.repetitions(field_number), start=1):
                found.append((service, field_number, number, repetition, False))
    return found


def _diagnoses(orders: list[Order], findings: Findings) -> list[Diagnosis]:
    before = len(findings.issues)
    principal: list[Diagnosis] = []
    others: list[Diagnosis] = []
    for segment, field_number, number, repetition, is_principal in _diagnosis_sources(orders):
        coded = list(codings(repetition))
        icd10 = next((c for c in coded if c.system in ICD10CM_SYSTEMS or not c.system), None)
        if icd10 is None:
            where = segment.at(field_number, 3, number)
            if any(c.system in ICD9_SYSTEMS for c in coded):
                findings.unknown(where, "ICD-9-CM diagnoses are retired; send ICD-10-CM")
            else:
                findings.unknown(where, "no ICD-10-CM code (coding system I10 or I10C)")
            continue
        diagnosis = findings.build(
            Diagnosis,
            {"code": icd10.code, "description": icd10.text or None},
            {
                "code": segment.at(field_number, icd10.component, number),
                "description": segment.at(field_number, icd10.component + 1, number),
            },
            segment.at(field_number, repetition=number),
        )
        if diagnosis is not None:
            (principal if is_principal else others).append(diagnosis)
    unique: list[Diagnosis] = []
    for diagnosis in principal + others:
        if all(d.code != diagnosis.code for d in unique):
            unique.append(diagnosis)
    if not unique and len(findings.issues) == before:
        places = "RXE-27" if orders[0].drug else "DG1 or OBR-31"
        findings.missing(Location("DG1"), f"a diagnosis ({places})")
    if len(unique) > MAX_DIAGNOSES:
        findings.invalid(Location("DG1"), f"more than {MAX_DIAGNOSES} diagnoses")
    return unique


def _ordering_provider(orders: list[Order], findings: Findings) -> Provider | None:
    for order in orders:
        candidates = [(order.orc, 12)] + [(obr, 16) for obr in order.all("OBR")]
        for segment, field_number in candidates:
            for number, repetition in enumerate(segment.repetitions(field_number), start=1):
                if is_npi(repetition):
                    return findings.build(
                        Provider,
                        {"npi": leaf(repetition, 1), "name": provider_name(repetition)},
                        {
                            "npi": segment.at(field_number, 1, number),
                            "name": segment.at(field_number, 2, number),
                        },
                        segment.at(field_number, repetition=number),
                    )
    findings.missing(orders[0].orc.at(12), "the ordering provider's NPI (ORC-12 or OBR-16)")
    return None
