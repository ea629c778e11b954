"""Eligibility, 005010X279A1: canonical check -> 270, 270 -> check, 271 -> result, result -> 271.

The case id travels as BHT03 and as the person level's TRN02; the payer echoes the trace with
TRN01 = 2, which is how a 271 finds its case. The person asked about is the subscriber, or a
dependent under the subscriber when the coverage says so; service types are asked one EQ each
(some payers answer only the first repetition of EQ01). The 271 builder is what a payer, or
casegate's clearinghouse sandbox playing one, sends back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from canonical.cases import EligibilityCheckRequest
from canonical.eligibility import Benefit, EligibilityResult
from canonical.parties import Person, Relationship
from mappings.x12.body_writer import BodyWriter, LeftOut, open_body, period
from mappings.x12.delimiters import Delimiters
from mappings.x12.errors import CanonicalMappingError, Location, X12Error
from mappings.x12.loop_tree import LoopNode
from mappings.x12.prior_auth_response import rejections_in
from mappings.x12.segments import Segment
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
    RELATIONSHIP,
    RELATIONSHIP_FROM_X12,
    optional_decimal_text,
)

ACTIVE = frozenset({"1", "2", "3", "4", "5"})
INACTIVE = frozenset({"6", "7", "8"})
_YES_NO = {"Y": True, "N": False}

Tail = Callable[[BodyWriter], None]


def inquiry_body(
    case_id: str,
    request: EligibilityCheckRequest,
    *,
    created: datetime,
    originator: str = DEFAULT_ORIGINATOR,
    delimiters: Delimiters | None = None,
) -> tuple[list[Segment], list[LeftOut]]:
    """The segments of a 270 between ST and SE, and what did not fit."""
    w = open_body(delimiters, case_id, created, "0022", "13", originator=originator)

    def ask(writer: BodyWriter) -> None:
        writer.add("DTP", "291", "D8", f"{request.as_of:%Y%m%d}")
        for service_type in request.service_type_codes:
            writer.add("EQ", writer.text(service_type, 2, "/service_type_codes"))

    _parties(w, case_id, request, trace_type="1", originator=originator, tail=ask)
    return w.segments, w.left_out


def benefits_body(
    case_id: str,
    request: EligibilityCheckRequest,
    result: EligibilityResult,
    *,
    created: datetime,
    originator: str = "9PAYERELIG",
    delimiters: Delimiters | None = None,
) -> list[Segment]:
    """The segments of a 271 answering `request` with `result`, the inquiry's trace echoed."""
    w = open_body(delimiters, case_id, created, "0022", "11", originator=originator)

    def refuse(writer: BodyWriter) -> None:
        for rejection in result.rejections:
            writer.add("AAA", "N", None, rejection.reason_code, rejection.follow_up)

    def answer(writer: BodyWriter) -> None:
        if result.plan_period is not None:
            writer.add("DTP", "346", *period(result.plan_period.start, result.plan_period.end))
        for benefit in result.benefits:
            _benefit(writer, benefit)

    _parties(w, case_id, request, trace_type="2", originator=originator, tail=answer, refuse=refuse)
    return w.segments


def _parties(
    w: BodyWriter,
    case_id: str,
    request: EligibilityCheckRequest,
    *,
    trace_type: str,
    originator: str,
    tail: Tail,
    refuse: Tail | None = None,
) -> None:
    """Payer, provider, subscriber and (for a dependent) patient levels; `tail` ends the last.

    `refuse` writes a 271's AAA segments, whose place is after the address, before DMG.
    """
    source = w.level(None, "20", True)
    w.party("PR", request.payer.name, "/payer/name", "PI", request.payer.id)
    receiver = w.level(source, "21", True)
    w.party("1P", request.provider.name, "/provider/name", "XX", request.provider.npi)
    coverage = request.coverage
    dependent = coverage.relationship is not Relationship.self_
    subscriber = coverage.subscriber if dependent and coverage.subscriber else request.patient
    where = "/coverage/subscriber" if dependent else "/patient"
    level = w.level(receiver, "22", dependent)
    if not dependent:
        w.add("TRN", trace_type, case_id, originator)
    w.person_name("IL", subscriber, where, ["MI", coverage.member_id])
    if coverage.group_number:
        w.add("REF", "6P", w.text(coverage.group_number, 50, "/coverage/group_number"))
    _demographics(w, subscriber, where, None if dependent else refuse)
    if not dependent:
        tail(w)
        return
    w.level(level, "23", False)
    w.add("TRN", trace_type, case_id, originator)
    w.person_name("03", request.patient, "/patient", [])
    _demographics(w, request.patient, "/patient", refuse)
    w.add("INS", "N", RELATIONSHIP[coverage.relationship])
    tail(w)


def _demographics(w: BodyWriter, who: Person, where: str, refuse: Tail | None) -> None:
    if who.address:
        w.address(who.address, f"{where}/address")
    if refuse is not None:
        refuse(w)
    w.demographics(who, where, address=False)


def _benefit(w: BodyWriter, benefit: Benefit) -> None:
    codes = benefit.service_type_codes
    repeat = w.delimiters.repetition
    if len(codes) > 1 and not repeat:
        raise X12Error("several service types need a repetition separator", Location(None, "EB", 3))
    if not all(code.isascii() and code.isalnum() for code in codes):
        raise X12Error("a service type code is letters and digits", Location(None, "EB", 3))
    w.add(
        "EB",
        benefit.information,
        benefit.coverage_level,
        codes[0] if codes else None,
        benefit.insurance_type,
        w.text(benefit.plan_description, 50, "/benefits/plan_description"),
        benefit.time_period,
        optional_decimal_text(benefit.amount),
        optional_decimal_text(benefit.percent),
        benefit.quantity_qualifier,
        optional_decimal_text(benefit.quantity),
        _flag(benefit.authorization_required, "N"),
        _flag(benefit.in_network, "N"),
    )
    if len(codes) > 1 and repeat:
        w.segments[-1].elements[3] = repeat.join(codes)  # a repeated element, not a composite
    if benefit.period is not None:
        w.add("DTP", "292", *period(benefit.period.start, benefit.period.end))
    for message in benefit.messages:
        w.add("MSG", w.text(message, 264, "/benefits/messages"))


def _flag(value: bool | None, no: str) -> str:
    return "" if value is None else ("Y" if value else no)


def read_270(tree: LoopNode) -> tuple[str, EligibilityCheckRequest]:
    """A 270's case id (BHT03) and canonical check, for the side that answers inquiries."""
    bht = needed(tree.segment("BHT"), "BHT")
    source = first_loop(tree, "2000A")
    payer = payer_party(first_loop(source, "2100A"))
    receiver = first_loop(source, "2000B")
    subscriber_level = first_loop(receiver, "2000C")
    subscriber_name = first_loop(subscriber_level, "2100C")
    member = needed(subscriber_name.segment("NM1"), "NM1")
    dependents = subscriber_level.loops("2000D")
    patient_name = first_loop(dependents[0], "2100D") if dependents else subscriber_name
    inquiries = patient_name.loops("2110D" if dependents else "2110C")
    asked = patient_name.segment("DTP", "291") or next(
        (node.segment("DTP", "291") for node in inquiries if node.segment("DTP", "291")), None
    )
    ins = patient_name.segment("INS")
    relationship = RELATIONSHIP_FROM_X12.get(ins.get(2) if ins else "", Relationship.other)
    document: dict[str, Any] = {
        "patient": person(patient_name),
        "coverage": present(
            member_id=member.get(9),
            group_number=ref_value(subscriber_name, "6P"),
            relationship=relationship.value if dependents else "self",
            subscriber=person(subscriber_name) if dependents else None,
        ),
        "payer": payer,
        "provider": provider(first_loop(receiver, "2100B")),
        "service_type_codes": [
            code for node in inquiries if (eq := node.segment("EQ")) for code in eq.repetitions(1)
        ]
        or ["30"],
        "as_of": dtp_period(asked)["start"] if asked else x12_date(bht.get(4), "BHT").isoformat(),
    }
    try:
        return bht.get(3), EligibilityCheckRequest.model_validate(document)
    except ValidationError as exc:
        raise CanonicalMappingError.refused(exc) from None


def read_271(tree: LoopNode) -> EligibilityResult:
    """The canonical result in a validated 271's loop tree."""
    bht = needed(tree.segment("BHT"), "BHT")
    source = first_loop(tree, "2000A")
    payer_loop = source.loops("2100A")
    payer = payer_loop[0].segment("NM1") if payer_loop else None
    subscriber_level = next(tree.find_loops("2000C"), None)
    subscriber_name = next(tree.find_loops("2100C"), None)
    dependent_name = next(tree.find_loops("2100D"), None)
    patient_name = dependent_name or subscriber_name
    benefit_loops = (
        patient_name.loops("2110D" if dependent_name else "2110C") if patient_name else []
    )
    benefits = [_read_benefit(node, index) for index, node in enumerate(benefit_loops)]
    member = subscriber_name.segment("NM1") if subscriber_name else None
    traces = [t for level in tree.find_loops("2000D") for t in level.segments("TRN", "2")]
    if subscriber_level is not None:
        traces = subscriber_level.segments("TRN", "2") + traces
    informations = {b.information for b in benefits}
    active = True if informations & ACTIVE else False if informations & INACTIVE else None
    plan = next((b.plan_description for b in benefits if b.information in ACTIVE), None)
    asked = patient_name.segment("DTP", "291") if patient_name else None
    begin = patient_name.segment("DTP", "346") if patient_name else None
    fields: dict[str, Any] = {
        "case_id": (traces[0].get(2) if traces else bht.get(3)) or None,
        "payer_id": (payer.get(9) or None) if payer else None,
        "payer_name": (payer.text(3) or None) if payer else None,
        "member_id": (member.get(9) or None) if member else None,
        "group_number": ref_value(subscriber_name, "6P") if subscriber_name else None,
        "plan_name": plan,
        "coverage_active": active,
        "authorization_required_for": _needing_authorization(benefits),
        "as_of": dtp_period(asked)["start"] if asked else None,
        "plan_period": dtp_period(begin) if begin else None,
        "benefits": benefits,
        "rejections": [
            {"loop": r.loop, "reason_code": r.reason_code, "follow_up": r.follow_up}
            for r in rejections_in(tree)
        ],
    }
    try:
        return EligibilityResult.model_validate(fields)
    except ValidationError as exc:
        raise CanonicalMappingError.refused(exc) from None


def _read_benefit(node: LoopNode, index: int) -> Benefit:
    eb = needed(node.segment("EB"), "EB")
    dated = next((d for d in node.segments("DTP") if d.get(2) in ("D8", "RD8")), None)
    fields = present(
        information=eb.get(1),
        coverage_level=eb.get(2),
        insurance_type=eb.get(4),
        plan_description=eb.text(5),
        time_period=eb.get(6),
        amount=amount(eb.get(7), "EB", 7),
        percent=amount(eb.get(8), "EB", 8),
        quantity_qualifier=eb.get(9),
        quantity=amount(eb.get(10), "EB", 10),
        authorization_required=_YES_NO.get(eb.get(11)),
        in_network=_YES_NO.get(eb.get(12)),
        period=dtp_period(dated) if dated else None,
    )
    fields["service_type_codes"] = eb.repetitions(3)
    fields["messages"] = [m.text(1) for m in node.segments("MSG") if m.get(1)]
    try:
        return Benefit.model_validate(fields)
    except ValidationError as exc:
        raise CanonicalMappingError.refused(exc, f"/benefits/{index}") from None


def _needing_authorization(benefits: list[Benefit]) -> list[str]:
    found: list[str] = []
    for benefit in benefits:
        if benefit.authorization_required:
            found += [c for c in benefit.service_type_codes or ["30"] if c not in found]
    return found
