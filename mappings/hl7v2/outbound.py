"""A payer's decision, back to the EHR that placed the order, in the form the site configured.

`DecisionForm.order_status` sends ORM^O01 with ORC-1 = SC (status changed) per service line:
ORC-16 carries the review action (X12 HCR01, coding system X12DE306), ORC-7 the authorized
units and dates, IN1-14 the authorization number, its date and the payer.

`DecisionForm.result_with_zau` sends ORU^R01 with one OBR per service line (OBR-25: F final,
P preliminary while pended, X cancelled), each followed by a ZAU segment of our own:

    ZAU-1  authorization number            ZAU-7  payer id ^ payer name
    ZAU-2  review action (CWE, X12DE306)   ZAU-8  reason code ^ reason text
    ZAU-3  outcome (casegate's word)       ZAU-9  case id ^ CASEGATE
    ZAU-4  authorized from (DT)            ZAU-10 payer reference
    ZAU-5  authorized through (DT)         ZAU-11 authorized units for this line
    ZAU-6  decided at (DTM)

Both carry the placer order numbers the order came with (ORC-2, OBR-2) so the EHR finds its
order, and casegate's case id as the filler order number (ORC-3, OBR-3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from canonical.cases import PriorAuthorizationRequest
from canonical.clinical import ServiceLine
from canonical.codes import procedure_code_system
from canonical.decisions import Decision, DecisionOutcome, ItemDecision
from mappings.hl7v2.codec import Field, Message, Segment, components, serialize
from mappings.hl7v2.vocabulary import (
    ACTION_SYSTEM,
    ACTION_TEXT,
    OUTCOME_ACTION,
    RESULT_STATUS,
    SEX_CODE,
)

FILLER_NAMESPACE = "CASEGATE"


class DecisionForm(StrEnum):
    order_status = "order_status"  # ORM^O01, ORC-1 SC
    result_with_zau = "result_with_zau"  # ORU^R01 with a ZAU segment


@dataclass(frozen=True, slots=True)
class Addressing:
    """MSH-3 to MSH-6, MSH-11 and MSH-12 of what casegate sends to one EHR."""

    sending_application: str = "CASEGATE"
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    processing_id: str = "P"
    version: str = "2.5.1"


@dataclass(frozen=True, slots=True)
class _Notice:
    case_id: str
    request: PriorAuthorizationRequest
    decision: Decision
    at: datetime

    @property
    def filler_number(self) -> Field:
        return components(self.case_id, FILLER_NAMESPACE)


def decision_message(
    case_id: str,
    request: PriorAuthorizationRequest,
    decision: Decision,
    *,
    form: DecisionForm,
    control_id: str,
    at: datetime,
    placer_order_numbers: Sequence[str] = (),
    addressing: Addressing | None = None,
) -> bytes:
    """The message telling the EHR about `decision`.

    `placer_order_numbers` gives each service line's order (as the inbound order listed them);
    without it every line points at the request's external reference.
    """
    to = addressing or Addressing()
    notice = _Notice(case_id, request, decision, at)
    lines = request.service_lines
    numbers = list(placer_order_numbers) or [request.external_reference or ""] * len(lines)
    if len(numbers) != len(lines):
        raise ValueError("one placer order number per service line is needed")
    orm = form is DecisionForm.order_status
    kind = ("ORM", "O01", "ORM_O01") if orm else ("ORU", "R01", "ORU_R01")
    segments = [_msh(to, kind, control_id, at), _pid(request)]
    if orm:
        segments.append(_in1(notice))
    for line, number in zip(lines, numbers, strict=True):
        segments.append(_orc(notice, line, number))
        segments.extend(
            _order_detail(notice, line, number) if orm else _result(notice, line, number)
        )
    return serialize(Message(tuple(segments)))


def _dtm(at: datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S%z")


def _dt(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def _msh(to: Addressing, kind: tuple[str, str, str], control_id: str, at: datetime) -> Segment:
    return Segment.of(
        "MSH",
        "|",
        "^~\\&",
        to.sending_application,
        to.sending_facility,
        to.receiving_application,
        to.receiving_facility,
        _dtm(at),
        "",
        components(*kind),
        control_id,
        to.processing_id,
        to.version,
    )


def _pid(request: PriorAuthorizationRequest) -> Segment:
    patient = request.patient
    return Segment.of(
        "PID",
        "1",
        "",
        components(patient.mrn, "", "", "", "MR") if patient.mrn else "",
        "",
        components(patient.family, patient.given),
        "",
        _dt(patient.birth_date),
        SEX_CODE[patient.sex],
    )


def _in1(notice: _Notice) -> Segment:
    coverage, payer, decision = notice.request.coverage, notice.request.payer, notice.decision
    decided = decision.decided_at or notice.at
    fields: list[Field | str] = [""] * 36
    fields[0] = "1"
    fields[1] = components("", coverage.plan_name or "")
    fields[2] = payer.id
    fields[3] = payer.name
    fields[7] = coverage.group_number or ""
    if decision.auth_number:
        fields[13] = components(decision.auth_number, _dt(decided.date()), payer.name)
    fields[35] = coverage.member_id
    return Segment.of("IN1", *fields)


def _item(line: ServiceLine, decision: Decision) -> ItemDecision | None:
    return next((i for i in decision.items if i.sequence == line.sequence), None)


def _action(line: ServiceLine, decision: Decision) -> Field:
    item = _item(line, decision)
    action = item.action if item else OUTCOME_ACTION[decision.outcome]
    return components(action.value, ACTION_TEXT[action], ACTION_SYSTEM)


def _units(line: ServiceLine, decision: Decision) -> str:
    item = _item(line, decision)
    units = item.authorized_units if item else None
    return "" if units is None else format(units.normalize(), "f")


def _service(line: ServiceLine) -> Field:
    system = "C4" if procedure_code_system(line.procedure_code) == "CPT" else "HCPCS"
    return components(line.procedure_code, line.description or "", system)


def _orc(notice: _Notice, line: ServiceLine, number: str) -> Segment:
    decision = notice.decision
    period = decision.authorized_period
    timing = components(
        _units(line, decision),
        "",
        "",
        _dt(period.start if period else None),
        _dt(period.end if period else None),
    )
    cancelled = decision.outcome is DecisionOutcome.cancelled
    fields: list[Field | str] = [""] * 16
    fields[0] = "SC"
    fields[1] = number
    fields[2] = notice.filler_number
    fields[4] = "CA" if cancelled else ""
    fields[6] = timing
    fields[8] = _dtm(notice.at)
    fields[15] = _action(line, decision)
    return Segment.of("ORC", *fields)


def _order_detail(notice: _Notice, line: ServiceLine, number: str) -> list[Segment]:
    obr = Segment.of("OBR", str(line.sequence), number, notice.filler_number, _service(line))
    return [obr, *_reason(notice.decision)]


def _reason(decision: Decision) -> list[Segment]:
    return [Segment.of("NTE", "1", "L", decision.reason_text)] if decision.reason_text else []


def _result(notice: _Notice, line: ServiceLine, number: str) -> list[Segment]:
    decision, payer = notice.decision, notice.request.payer
    fields: list[Field | str] = [""] * 25
    fields[0] = str(line.sequence)
    fields[1] = number
    fields[2] = notice.filler_number
    fields[3] = _service(line)
    fields[6] = _dtm(notice.at)
    fields[21] = _dtm(notice.at)
    fields[24] = RESULT_STATUS[decision.outcome]
    period = decision.authorized_period
    zau = Segment.of(
        "ZAU",
        decision.auth_number or "",
        _action(line, decision),
        decision.outcome.value,
        _dt(period.start if period else None),
        _dt(period.end if period else None),
        _dtm(decision.decided_at) if decision.decided_at else "",
        components(payer.id, payer.name),
        components(decision.reason_code or "", decision.reason_text or ""),
        notice.filler_number,
        decision.payer_reference or "",
        _units(line, decision),
    )
    return [Segment.of("OBR", *fields), *_reason(decision), zau]
