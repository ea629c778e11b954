"""Claim status, 005010X212: canonical inquiry -> 276, 276 -> inquiry, 277 -> result, result -> 277.

The case id travels as BHT03 and as the claim's TRN02, which the payer echoes with TRN01 = 2.
The provider asking is both the information receiver (2000B) and the service provider (2000C)
of the claim. A 277 may carry a status for the whole receiver or provider level instead of a
claim (the payer could not search): those STCs become a claim entry without claim numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from canonical.cases import ClaimStatusRequest
from canonical.claim_status import ClaimStatus, ClaimStatusResult, LineStatus, StatusCode
from canonical.parties import Relationship
from mappings.x12.body_writer import BodyWriter, LeftOut, open_body
from mappings.x12.delimiters import Delimiters
from mappings.x12.errors import CanonicalMappingError
from mappings.x12.loop_tree import LoopNode
from mappings.x12.segments import Segment, Value
from mappings.x12.tree_reading import (
    amount,
    dtp_period,
    first_loop,
    needed,
    payer_party,
    person,
    present,
    provider,
    ref_value,
    x12_date,
)
from mappings.x12.vocabulary import (
    DEFAULT_ORIGINATOR,
    SEX_FROM_X12,
    decimal_text,
    optional_decimal_text,
)

_CLAIM_LOOPS = ("2200D", "2200E")
_LEVEL_STATUS_LOOPS = ("2200A", "2200B", "2200C")


def inquiry_body(
    case_id: str,
    request: ClaimStatusRequest,
    *,
    created: datetime,
    originator: str = DEFAULT_ORIGINATOR,
    delimiters: Delimiters | None = None,
) -> tuple[list[Segment], list[LeftOut]]:
    """The segments of a 276 between ST and SE, and what did not fit."""
    w = open_body(delimiters, case_id, created, "0010", "13", originator=originator)
    _levels(w, request, demographics=True)
    w.add("TRN", "1", case_id, originator)
    claim = request.claim
    if claim.payer_claim_id:
        w.add("REF", "1K", w.text(claim.payer_claim_id, 50, "/claim/payer_claim_id"))
    w.add("REF", "EJ", w.text(claim.patient_account_number, 50, "/claim/patient_account_number"))
    w.add("AMT", "T3", decimal_text(claim.total_charge))
    w.add("DTP", "472", *_range(claim.service_period.start, claim.service_period.end))
    return w.segments, w.left_out


def status_body(
    case_id: str,
    request: ClaimStatusRequest,
    result: ClaimStatusResult,
    *,
    created: datetime,
    originator: str = "9PAYERSTAT",
    delimiters: Delimiters | None = None,
) -> list[Segment]:
    """The segments of a 277 answering `request` with the first claim of `result`."""
    if not result.claims:
        raise ValueError("a 277 answers with the status of at least one claim")
    w = open_body(delimiters, case_id, created, "0010", "08", originator=originator)
    w.segments[-1].elements.append("DG")
    _levels(w, request, demographics=False)
    status = result.claims[0]
    w.add("TRN", "2", status.trace_number or case_id)
    day = f"{status.status_date or created:%Y%m%d}"
    _stc(w, status.statuses, status, day)
    if status.payer_claim_id:
        w.add("REF", "1K", w.text(status.payer_claim_id, 50, "/claims/0/payer_claim_id"))
    account = status.patient_account_number or request.claim.patient_account_number
    w.add("REF", "EJ", w.text(account, 50, "/claims/0/patient_account_number"))
    served = status.service_period or request.claim.service_period
    w.add("DTP", "472", *_range(served.start, served.end))
    for index, line in enumerate(status.lines):
        w.add(
            "SVC",
            ["HC", line.procedure_code, *line.modifiers],
            optional_decimal_text(line.charge),
            optional_decimal_text(line.paid),
        )
        _stc(w, line.statuses, None, day)
        if line.line_control_number:
            w.add("REF", "FJ", w.text(line.line_control_number, 50, f"/claims/0/lines/{index}"))
        if line.service_period:
            w.add("DTP", "472", *_range(line.service_period.start, line.service_period.end))
    return w.segments


def _levels(w: BodyWriter, request: ClaimStatusRequest, *, demographics: bool) -> None:
    """Payer, receiver, provider and person levels; only the 276 repeats birth date and sex."""
    source = w.level(None, "20", True)
    w.party("PR", request.payer.name, "/payer/name", "PI", request.payer.id)
    receiver = w.level(source, "21", True)
    w.party("41", request.provider.name, "/provider/name", "XX", request.provider.npi)
    billing = w.level(receiver, "19", True)
    w.party("1P", request.provider.name, "/provider/name", "XX", request.provider.npi)
    coverage = request.coverage
    dependent = coverage.relationship is not Relationship.self_
    subscriber = coverage.subscriber if dependent and coverage.subscriber else request.patient
    where = "/coverage/subscriber" if dependent else "/patient"
    level = w.level(billing, "22", dependent)
    if demographics and not dependent:
        w.demographics(subscriber, where, address=False)
    w.person_name("IL", subscriber, where, ["MI", coverage.member_id])
    if dependent:
        w.level(level, "23", False)
        patient = request.patient
        if demographics:
            w.demographics(patient, "/patient", address=False)
        w.person_name("QC", patient, "/patient", [])


def _stc(w: BodyWriter, statuses: list[StatusCode], claim: ClaimStatus | None, day: str) -> None:
    """STC01 (and STC10, STC11 for a second and third status); amounts and payment per claim."""
    composites: list[Value] = [[s.category, s.code or "", s.entity or ""] for s in statuses[:3]]
    elements: list[Value] = [composites[0], day]
    if claim is not None:
        paid_on = f"{claim.paid_on:%Y%m%d}" if claim.paid_on else ""
        method = "CHK" if claim.check_number else ""
        charged, paid = optional_decimal_text(claim.total_charge), optional_decimal_text(claim.paid)
        elements += ["", charged, paid, "", method, paid_on]
        elements.append(claim.check_number or "")
    if len(composites) > 1:
        elements += [""] * (9 - len(elements)) + composites[1:]
    w.add("STC", *elements)


def _range(start: Any, end: Any) -> list[str]:
    """Claim service dates are always a range in the 276/277 (RD8), one day repeated if need be."""
    return ["RD8", f"{start:%Y%m%d}-{(end or start):%Y%m%d}"]


def read_276(tree: LoopNode) -> tuple[str, ClaimStatusRequest]:
    """A 276's case id and canonical inquiry, for the side that answers status requests."""
    bht = needed(tree.segment("BHT"), "BHT")
    source = first_loop(tree, "2000A")
    payer = payer_party(first_loop(source, "2100A"))
    billing = first_loop(first_loop(source, "2000B"), "2000C")
    subscriber_level = first_loop(billing, "2000D")
    subscriber_name = first_loop(subscriber_level, "2100D")
    dependents = subscriber_level.loops("2000E")
    patient_level = dependents[0] if dependents else subscriber_level
    patient_name = first_loop(patient_level, "2100E" if dependents else "2100D")
    claim = first_loop(patient_level, "2200E" if dependents else "2200D")
    dates = needed(claim.segment("DTP", "472"), "DTP")
    total = claim.segment("AMT", "T3")

    def who(level: LoopNode, name: LoopNode) -> dict[str, Any]:
        found = person(name)
        dmg = level.segment("DMG")
        if dmg is not None:
            found["birth_date"] = x12_date(dmg.get(2), "DMG").isoformat()
            found["sex"] = SEX_FROM_X12.get(dmg.get(3), "unknown")
        return found

    document: dict[str, Any] = {
        "patient": who(patient_level, patient_name),
        "coverage": present(
            member_id=needed(subscriber_name.segment("NM1"), "NM1").get(9),
            relationship="other" if dependents else "self",
            subscriber=who(subscriber_level, subscriber_name) if dependents else None,
        ),
        "payer": payer,
        "provider": provider(first_loop(billing, "2100C")),
        "claim": present(
            patient_account_number=ref_value(claim, "EJ"),
            payer_claim_id=ref_value(claim, "1K"),
            service_period=dtp_period(dates),
            total_charge=total.get(2) if total else None,
        ),
    }
    try:
        return bht.get(3), ClaimStatusRequest.model_validate(document)
    except ValidationError as exc:
        raise CanonicalMappingError.refused(exc) from None


def read_277(tree: LoopNode) -> ClaimStatusResult:
    """The canonical claim statuses in a validated 277's loop tree."""
    bht = needed(tree.segment("BHT"), "BHT")
    payer_loop = next(tree.find_loops("2100A"), None)
    payer = payer_loop.segment("NM1") if payer_loop else None
    claims: list[ClaimStatus] = []
    for loop_id in _LEVEL_STATUS_LOOPS + _CLAIM_LOOPS:
        for node in tree.find_loops(loop_id):
            claims.append(_claim(node, len(claims)))
    traced = next((c.trace_number for c in claims if c.trace_number), None)
    try:
        return ClaimStatusResult(
            case_id=traced or bht.get(3) or None,
            payer_id=(payer.get(9) or None) if payer else None,
            payer_name=(payer.text(3) or None) if payer else None,
            claims=claims,
        )
    except ValidationError as exc:
        raise CanonicalMappingError.refused(exc) from None


def _statuses(node: LoopNode) -> list[StatusCode]:
    found: list[StatusCode] = []
    for stc in node.segments("STC"):
        for position in (1, 10, 11):
            parts = stc.components(position)
            if parts and parts[0]:
                found.append(
                    StatusCode.model_validate(
                        present(
                            category=parts[0],
                            code=parts[1] if len(parts) > 1 else None,
                            entity=parts[2] if len(parts) > 2 else None,
                        )
                    )
                )
    return found


def _claim(node: LoopNode, index: int) -> ClaimStatus:
    stc = node.segment("STC")
    trn = node.segment("TRN")
    dates = node.segment("DTP", "472")
    try:
        fields: dict[str, Any] = present(
            patient_account_number=ref_value(node, "EJ"),
            payer_claim_id=ref_value(node, "1K"),
            trace_number=trn.get(2) if trn else None,
            service_period=dtp_period(dates) if dates else None,
        )
        if stc is not None:
            fields |= present(
                status_date=x12_date(stc.get(2), "STC").isoformat() if stc.get(2) else None,
                total_charge=amount(stc.get(4), "STC", 4),
                paid=amount(stc.get(5), "STC", 5),
                paid_on=x12_date(stc.get(8), "STC").isoformat() if stc.get(8) else None,
                check_number=stc.get(9),
            )
        fields["statuses"] = _statuses(node)
        fields["lines"] = [_line(line) for line in node.loops(f"2220{node.id[-1]}")]
        return ClaimStatus.model_validate(fields)
    except ValidationError as exc:
        raise CanonicalMappingError.refused(exc, f"/claims/{index}") from None


def _line(node: LoopNode) -> LineStatus:
    svc = needed(node.segment("SVC"), "SVC")
    procedure = svc.components(1)
    dates = node.segment("DTP", "472")
    return LineStatus.model_validate(
        present(
            procedure_code=procedure[1] if len(procedure) > 1 else "",
            charge=amount(svc.get(2), "SVC", 2),
            paid=amount(svc.get(3), "SVC", 3),
            line_control_number=ref_value(node, "FJ"),
            service_period=dtp_period(dates) if dates else None,
        )
        | {"modifiers": [m for m in procedure[2:6] if m], "statuses": _statuses(node)}
    )
