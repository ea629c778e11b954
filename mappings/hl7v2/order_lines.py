"""One order (ORC and what follows it) -> one service line: a procedure (OBR) or a drug (RXE).

Where HL7 has moved a value between versions (the service dates from ORC-7 and OBR-27 to the
TQ1 segment in v2.5; the CPT code from OBR-4 to OBR-44) the newer place is read first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from canonical.base import Period
from canonical.cases import Urgency
from canonical.clinical import Drug, ServiceLine
from mappings.hl7v2.codec import leaf
from mappings.hl7v2.errors import Location
from mappings.hl7v2.reading import Coded, Findings, Placed, codings, read_date, read_number
from mappings.hl7v2.vocabulary import (
    DRUG_UNITS,
    EXPEDITED_PRIORITIES,
    NDC_SYSTEMS,
    PROCEDURE_SYSTEMS,
)

MAX_NOTES = 2000
_CUT = " [truncated]"
Source = tuple[Location, str]


@dataclass
class Order:
    """An ORC and the segments up to the next ORC: the ORDER group, read flat."""

    orc: Placed
    detail: list[Placed] = field(default_factory=list)
    drug: bool = False  # RDE: the service is the RXE, not an OBR

    def first(self, segment_id: str) -> Placed | None:
        return next((s for s in self.detail if s.id == segment_id), None)

    def all(self, segment_id: str) -> list[Placed]:
        return [s for s in self.detail if s.id == segment_id]

    @property
    def service(self) -> Placed | None:
        return self.first("RXE" if self.drug else "OBR")


def _pick(*candidates: Source | None) -> Source | None:
    return next((c for c in candidates if c is not None and c[1]), None)


def _part(segment: Placed | None, field_number: int, component: int = 1) -> Source | None:
    if segment is None:
        return None
    return segment.at(field_number, component), segment.value(field_number, component)


def _timing(order: Order, tq_component: int, tq1_field: int) -> Source | None:
    """TQ1, else the TQ field of ORC-7 and of the service (OBR-27, RXE-1).

    TQ components: 1 quantity, 4 start, 5 end, 6 priority.
    """
    return _pick(
        _part(order.first("TQ1"), tq1_field),
        _part(order.orc, 7, tq_component),
        _part(order.service, 1 if order.drug else 27, tq_component),
    )


def urgency(order: Order) -> Urgency:
    """Stat and ASAP orders are expedited; no priority means routine (table 0027's default)."""
    priority = _pick(_timing(order, 6, 9), None if order.drug else _part(order.service, 5))
    expedited = priority is not None and priority[1].upper() in EXPEDITED_PRIORITIES
    return Urgency.expedited if expedited else Urgency.standard


def notes(orders: list[Order]) -> str | None:
    text = "\n".join(
        leaf(r, 1) for o in orders for nte in o.all("NTE") for r in nte.repetitions(3)
    ).strip()
    if len(text) > MAX_NOTES:
        text = text[: MAX_NOTES - len(_CUT)] + _CUT
    return text or None


def _period(order: Order, findings: Findings) -> Period | None:
    start = _timing(order, 4, 7)
    if start is None and not order.drug:
        start = _pick(_part(order.service, 36), _part(order.service, 7))
    if start is None:
        places = "TQ1-7, ORC-7.4, " + ("RXE-1.4" if order.drug else "OBR-27.4, OBR-36 or OBR-7")
        findings.missing(order.orc.at(7, 4), f"the service start date ({places})")
        return None
    end = _timing(order, 5, 8)
    begins = read_date(findings, start[0], start[1], "the service start date")
    ends = read_date(findings, end[0], end[1], "the service end date") if end else None
    if begins is None:
        return None
    # The one rule Period adds, end not before start, is the end's fault.
    end_at = end[0] if end else start[0]
    sources = {"start": start[0], "end": end_at}
    return findings.build(Period, {"start": begins, "end": ends}, sources, end_at)


def _units(order: Order, findings: Findings) -> tuple[Location, Decimal] | None:
    quantity = _timing(order, 1, 2)
    if quantity is None:
        return order.orc.at(7, 1), Decimal(1)  # TQ: an absent quantity is one
    units = read_number(quantity[1])
    if units is None:
        findings.invalid(quantity[0], "the quantity is not a number")
        return None
    return quantity[0], units


def service_line(
    order: Order, sequence: int, place: str | None, findings: Findings
) -> ServiceLine | None:
    service = order.service
    if service is None:
        missing = "RXE" if order.drug else "OBR"
        findings.missing(Location(missing), f"the service ordered ({missing})")
        return None
    if order.drug:
        return _drug_line(order, service, sequence, place, findings)
    return _procedure_line(order, service, sequence, place, findings)


def _procedure_line(
    order: Order, obr: Placed, sequence: int, place: str | None, findings: Findings
) -> ServiceLine | None:
    code = _procedure_code(obr)
    if code is None:
        findings.missing(obr.at(4), "a CPT or HCPCS code (OBR-44, or OBR-4 naming C4 or HCPCS)")
    period = _period(order, findings)
    units = _units(order, findings)
    if code is None or period is None or units is None:
        return None
    field_number, coded = code
    line = {
        "sequence": sequence,
        "procedure_code": coded.code,
        "modifiers": [leaf(r, 1) for r in obr.repetitions(45) if leaf(r, 1)],
        "units": units[1],
        "service_period": period,
        "place_of_service": place,
        "description": coded.text or None,
    }
    sources = {
        "procedure_code": obr.at(field_number, coded.component),
        "modifiers": obr.at(45),
        "units": units[0],
        "description": obr.at(field_number, coded.component + 1),
        "place_of_service": Location("PV1", field=2),
    }
    return findings.build(ServiceLine, line, sources, obr.at())


def _procedure_code(obr: Placed) -> tuple[int, Coded] | None:
    """OBR-44 holds a procedure code by definition; in OBR-4 the code must name its system."""
    for field_number in (44, 4):
        repetitions = obr.repetitions(field_number)
        for coded in codings(repetitions[0]) if repetitions else ():
            if coded.system in PROCEDURE_SYSTEMS or (field_number == 44 and not coded.system):
                return field_number, coded
    return None


def _drug_line(
    order: Order, rxe: Placed, sequence: int, place: str | None, findings: Findings
) -> ServiceLine | None:
    give = rxe.repetitions(2)
    codes = list(codings(give[0])) if give else []
    ndc = next((c for c in codes if c.system in NDC_SYSTEMS), None)
    procedure = next((c for c in codes if c.system in PROCEDURE_SYSTEMS), None)
    if ndc is None:
        findings.missing(rxe.at(2, 1), "the drug's NDC (RXE-2 naming NDC)")
    if procedure is None:
        findings.missing(rxe.at(2, 4), "the drug's HCPCS or CPT code (RXE-2.4 naming HPC or HCPCS)")
    amount, unit_field = (10, 11) if rxe.value(10) else (3, 5)
    quantity = read_number(rxe.value(amount))
    if quantity is None:
        findings.invalid(rxe.at(amount), "the dispense or give amount is not a number")
    unit = DRUG_UNITS.get(rxe.value(unit_field, 1).upper())
    if unit is None:
        findings.unknown(rxe.at(unit_field, 1), "the drug unit is not one a payer takes")
    period = _period(order, findings)
    if ndc is None or procedure is None or quantity is None or unit is None or period is None:
        return None
    drug = findings.build(
        Drug,
        {"ndc": ndc.code, "quantity": quantity, "unit": unit},
        {"ndc": rxe.at(2, ndc.component), "quantity": rxe.at(amount)},
        rxe.at(2),
    )
    if drug is None:
        return None
    line = {
        "sequence": sequence,
        "procedure_code": procedure.code,
        "service_period": period,
        "place_of_service": place,
        "drug": drug,
        "description": ndc.text or procedure.text or None,
    }
    sources = {"procedure_code": rxe.at(2, procedure.component), "description": rxe.at(2, 2)}
    return findings.build(ServiceLine, line, sources, rxe.at())
