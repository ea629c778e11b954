"""A 278 response (005010X217) -> canonical `Decision`.

The outcome is the patient event's HCR01 review action; without one, the services' actions
decide together (any pend pends the case, a mix of approvals and denials is a partial
approval). A response with no HCR at all is a rejection: its AAA segments say why and what to
do next (correct and resend: more information is needed; do not resend: denied; wait: pended).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from canonical.base import Period
from canonical.decisions import Decision, DecisionOutcome, ItemDecision, ReviewAction
from mappings.x12.element_checks import valid_date
from mappings.x12.errors import CanonicalMappingError, Location, X12Error
from mappings.x12.loop_tree import LoopNode
from mappings.x12.segments import Segment
from mappings.x12.vocabulary import FOLLOW_UP, OUTCOME

_APPROVALS = frozenset({ReviewAction.certified, ReviewAction.no_action_required})
_PARTIAL = frozenset({ReviewAction.certified_partial, ReviewAction.modified})
_REFUSALS = frozenset({ReviewAction.not_certified, ReviewAction.cancelled})
_UNIT_QUALIFIERS = frozenset({"DY", "FL", "HS", "MN", "VS"})


@dataclass(frozen=True, slots=True)
class Rejection:
    """An AAA segment: the payer could not process the request at `loop`."""

    loop: str
    reason_code: str
    follow_up: str


@dataclass(frozen=True, slots=True)
class ReviewResponse:
    case_id: str | None  # the requester's trace echoed at the patient event (TRN01 = 2)
    decision: Decision
    rejections: tuple[Rejection, ...] = ()


def read_278_response(tree: LoopNode) -> ReviewResponse:
    """The decision in a validated 278 response's loop tree."""
    rejections = tuple(rejections_in(tree))
    event = next(tree.find_loops("2000E"), None)
    services = list(event.loops("2000F")) if event else []
    hcr = event.segment("HCR") if event else None
    items = [item for index, node in enumerate(services) if (item := _item(node, index))]
    case_id = _trace(event, "2") if event else None
    if hcr is None and not items:
        if not rejections:
            raise X12Error("a 278 response needs an HCR or an AAA segment", Location(None, "HCR"))
        return ReviewResponse(case_id, _rejected(rejections[0], event), rejections)
    outcome = OUTCOME[_action(hcr)] if hcr else _combined({i.action for i in items})
    source = hcr or _first_hcr(services)
    with_dates = event if event and _has_period(event) else _first_with_period(services)
    decision = _decision(
        outcome=outcome,
        auth_number=(source.get(2) or None) if source else None,
        authorized_period=_period(with_dates) if with_dates else None,
        reason_code=(source.get(3) or None) if source else None,
        reason_text=_message(event),
        payer_reference=_payer_reference(event),
        items=items,
    )
    return ReviewResponse(case_id, decision, rejections)


def _decision(**fields: object) -> Decision:
    try:
        return Decision.model_validate(fields)
    except ValidationError as exc:
        raise CanonicalMappingError.refused(exc) from None


def rejections_in(node: LoopNode) -> list[Rejection]:
    """Every AAA refusal (AAA01 = N) in `node` and below, in document order."""
    found: list[Rejection] = []
    for item in node.items:
        if isinstance(item, LoopNode):
            found.extend(rejections_in(item))
        elif item.segment.id == "AAA" and item.segment.get(1) == "N":
            found.append(Rejection(node.id, item.segment.get(3), item.segment.get(4)))
    return found


def _rejected(rejection: Rejection, event: LoopNode | None) -> Decision:
    return _decision(
        outcome=FOLLOW_UP.get(rejection.follow_up, DecisionOutcome.more_info_requested),
        reason_code=rejection.reason_code or None,
        reason_text=f"request rejected at loop {rejection.loop}",
        payer_reference=_payer_reference(event),
    )


def _action(hcr: Segment) -> ReviewAction:
    try:
        return ReviewAction(hcr.get(1))
    except ValueError:
        raise X12Error("not a review action code", Location(None, "HCR", 1)) from None


def _combined(actions: set[ReviewAction]) -> DecisionOutcome:
    """One outcome for the services' actions taken together."""
    if len(actions) == 1:
        return OUTCOME[actions.pop()]
    if ReviewAction.pended in actions:
        return DecisionOutcome.pended
    if ReviewAction.contact_payer in actions:
        return DecisionOutcome.more_info_requested
    if actions <= _APPROVALS:
        return DecisionOutcome.approved
    if actions & (_APPROVALS | _PARTIAL):
        return DecisionOutcome.partially_approved
    return DecisionOutcome.denied


def _item(node: LoopNode, index: int) -> ItemDecision | None:
    hcr = node.segment("HCR")
    if hcr is None:
        return None
    echoed = _trace(node, "2")
    sequence = int(echoed) if echoed and echoed.isascii() and echoed.isdigit() else index + 1
    try:
        return ItemDecision(
            sequence=max(sequence, 1),
            action=_action(hcr),
            authorized_units=_units(node),
            reason_code=hcr.get(3) or None,
        )
    except ValidationError as exc:
        raise CanonicalMappingError.refused(exc, f"/items/{index}") from None


def _units(node: LoopNode) -> Decimal | None:
    hsd = node.segment("HSD")
    if hsd is None or hsd.get(1) not in _UNIT_QUALIFIERS or not hsd.get(2):
        return None
    try:
        return Decimal(hsd.get(2))
    except InvalidOperation:
        raise X12Error("not a quantity", Location(None, "HSD", 2)) from None


def _trace(node: LoopNode, trace_type: str) -> str | None:
    for trn in node.segments("TRN", trace_type):
        return trn.get(2) or None
    return None


def _payer_reference(event: LoopNode | None) -> str | None:
    if event is None:
        return None
    reference = event.segment("REF", "NT")
    return _trace(event, "1") or (reference.get(2) if reference else None)


def _first_hcr(services: list[LoopNode]) -> Segment | None:
    return next((hcr for node in services if (hcr := node.segment("HCR"))), None)


def _has_period(node: LoopNode) -> bool:
    return node.segment("DTP", "007") is not None


def _first_with_period(services: list[LoopNode]) -> LoopNode | None:
    return next((node for node in services if _has_period(node)), None)


def _period(node: LoopNode) -> Period:
    effective = node.segment("DTP", "007")
    expiration = node.segment("DTP", "036")
    if effective is None:
        raise X12Error("a certification period needs its effective date", Location(None, "DTP"))
    start, end = _dates(effective)
    if expiration is not None:
        end = _dates(expiration)[0]
    try:
        return Period(start=start, end=end)
    except ValidationError:
        raise X12Error(
            "the certification ends before it starts", Location(None, "DTP", 3)
        ) from None


def _dates(dtp: Segment) -> tuple[date, date | None]:
    value = dtp.get(3)
    parts = value.split("-") if dtp.get(2) == "RD8" else [value]
    if not all(valid_date(p) for p in parts) or len(parts) > 2:
        raise X12Error("not a date", Location(None, "DTP", 3))
    days = [date(int(p[:4]), int(p[4:6]), int(p[6:8])) for p in parts]
    return days[0], days[1] if len(days) > 1 else None


def _message(event: LoopNode | None) -> str | None:
    msg = event.segment("MSG") if event else None
    return (msg.text(1) or None) if msg else None
