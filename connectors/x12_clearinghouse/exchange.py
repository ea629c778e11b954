"""What goes out for each operation, and what the clearinghouse's answer means.

Outgoing: the canonical case becomes one interchange holding one transaction (a 278 for a
prior authorization, a 270 for an eligibility check, a 276 for a claim status inquiry),
stamped with a control number that is stable per request. Incoming: every interchange of the
answer is read; a TA1 or 999 that rejects our interchange is a `PermanentError` whose reason
locates the problem by codes and positions only (the optional IK404 copy of the bad value is
never read), and the response transaction (278, 271, 277) becomes the canonical decision.

An inquiry about a pended review is a 278 request naming that review by its administrative
reference number (REF*NT at the patient event), which the payer answers with the review's
current state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from canonical.cases import (
    PAYLOAD_MODELS,
    CasePayload,
    CaseType,
    ClaimStatusRequest,
    EligibilityCheckRequest,
    PriorAuthorizationRequest,
)
from canonical.claim_status import ClaimStatusResult
from canonical.decisions import Decision, DecisionOutcome
from canonical.eligibility import EligibilityResult, eligibility_decision
from connectors.contract import ConnectorRequest
from connectors.errors import PermanentError, ProtocolError, located_problems
from connectors.x12_clearinghouse.config import TradingPartner, X12ClearinghouseConfig
from mappings.x12 import (
    Group,
    InterchangeHeader,
    Party,
    Segment,
    Transaction,
    X12Error,
    build,
    build_interchange,
    read,
    read_278_response,
    read_999,
    read_ta1,
    request_body,
)
from mappings.x12 import claim_status as x212
from mappings.x12 import eligibility as x279
from mappings.x12.body_writer import LeftOut
from mappings.x12.errors import CanonicalMappingError
from mappings.x12.findings import (
    ELEMENT_CODES,
    GROUP_CODES,
    SEGMENT_CODES,
    TA1_CODES,
    TRANSACTION_CODES,
)
from mappings.x12.loop_tree import LoopNode
from mappings.x12.schema import TransactionSpec
from mappings.x12.specs import (
    X212_276,
    X212_277,
    X217_REQUEST,
    X217_RESPONSE,
    X231_999,
    X279_270,
    X279_271,
)

SUBMIT = "prior_auth.submit"
INQUIRE = "prior_auth.inquire"
ELIGIBILITY = "eligibility.check"
CLAIM_STATUS = "claim_status.inquire"

Body = tuple[list[Segment], list[LeftOut]]


@dataclass(frozen=True)
class Operation:
    case_type: CaseType
    request: TransactionSpec
    response: TransactionSpec


OPERATIONS: dict[str, Operation] = {
    SUBMIT: Operation(CaseType.prior_authorization, X217_REQUEST, X217_RESPONSE),
    INQUIRE: Operation(CaseType.prior_authorization, X217_REQUEST, X217_RESPONSE),
    ELIGIBILITY: Operation(CaseType.eligibility_check, X279_270, X279_271),
    CLAIM_STATUS: Operation(CaseType.claim_status, X212_276, X212_277),
}


@dataclass(frozen=True)
class Outgoing:
    """One request on the wire: the interchange, its ISA13, and what X12 could not carry."""

    operation: Operation
    data: bytes
    control_number: int
    case_id: str
    left_out: tuple[tuple[str, str], ...] = ()

    @property
    def set_id(self) -> str:
        return self.operation.request.set_id


@dataclass(frozen=True)
class Answer:
    """The canonical reading of a response: the decision, and the full result where the
    decision is only its summary (an eligibility or claim status result)."""

    decision: Decision
    data: dict[str, Any] | None = None


def build_outgoing(
    request: ConnectorRequest,
    config: X12ClearinghouseConfig,
    control_number: int,
    *,
    now: datetime | None = None,
) -> Outgoing:
    operation = OPERATIONS[request.operation]
    if request.case_type != operation.case_type:
        raise PermanentError(f"{request.operation} carries {operation.case_type.value} cases only")
    created = now or datetime.now(UTC)
    payload = _payload(operation.case_type, request.payload)
    try:
        body, left_out = _body(request, payload, created)
        header = InterchangeHeader(
            sender=_party(config.sender),
            receiver=_party(config.receiver),
            control_number=control_number,
            created=created,
            usage=config.usage,
        )
        spec = operation.request
        transaction = Transaction(spec.set_id, "0001", body)
        group = Group(spec.functional_id, spec.reference, control_number, [transaction])
        interchange = build_interchange(header, [group])
    except X12Error as exc:
        raise PermanentError(f"the case does not fit a {operation.request.set_id}: {exc}") from None
    return Outgoing(
        operation=operation,
        data=interchange.to_bytes(),
        control_number=control_number,
        case_id=request.case_id,
        left_out=tuple((item.pointer, item.reason) for item in left_out),
    )


def _body(request: ConnectorRequest, payload: CasePayload, created: datetime) -> Body:
    case_id = request.case_id
    if isinstance(payload, EligibilityCheckRequest):
        return x279.inquiry_body(case_id, payload, created=created)
    if isinstance(payload, ClaimStatusRequest):
        return x212.inquiry_body(case_id, payload, created=created)
    assert isinstance(payload, PriorAuthorizationRequest)
    segments, left_out = request_body(case_id, payload, created=created)
    if request.operation == INQUIRE:
        if request.payer_reference is None:
            raise PermanentError("prior_auth.inquire needs the payer_reference")
        segments = _naming_review(segments, request.payer_reference)
    return segments, list(left_out)


def _party(partner: TradingPartner) -> Party:
    return Party(partner.id, partner.qualifier, partner.application)


def _payload(case_type: CaseType, payload: Mapping[str, Any]) -> CasePayload:
    try:
        return PAYLOAD_MODELS[case_type].model_validate(payload)
    except ValidationError as exc:
        # Locations only, and `from None`: the validation error's text repeats the PHI.
        where = ", ".join(located_problems(exc))
        raise PermanentError(f"case payload is not a valid {case_type.value} at: {where}") from None


def _naming_review(body: list[Segment], reference: str) -> list[Segment]:
    """The request with REF*NT after the patient event's UM, where X217 places it."""
    if not 1 <= len(reference) <= 50 or not reference.isascii() or not reference.isprintable():
        raise PermanentError("the payer_reference does not fit a REF*NT")
    event = next(i for i, s in enumerate(body) if s.id == "HL" and s.get(3) == "EV")
    um = next(i for i in range(event, len(body)) if body[i].id == "UM")
    ref = build("REF", "NT", reference, delimiters=body[um].delimiters)
    return [*body[: um + 1], ref, *body[um + 1 :]]


def read_answer(data: bytes, outgoing: Outgoing) -> Answer:
    """The canonical answer in the clearinghouse's reply, or the error its acknowledgments say."""
    try:
        interchanges = read(data)
    except X12Error as exc:
        raise ProtocolError(f"the answer is not readable X12: {exc}") from None
    answer: Answer | None = None
    expected = outgoing.operation.response
    for checked in interchanges:
        for ta1 in checked.interchange.acknowledgments:
            _raise_for_ta1(ta1)
        if not checked.accepted:
            where, what = next(checked.located_errors(), ("interchange", "invalid"))
            raise ProtocolError(f"the answer fails X12 validation: {where}: {what}")
        for transaction in checked.transactions:
            tree = transaction.tree
            if tree is None:
                continue
            try:
                if transaction.spec is X231_999:
                    _raise_for_999(read_999(tree))
                elif transaction.spec is expected:
                    answer = _READERS[expected.set_id](tree, outgoing.case_id)
            except (X12Error, CanonicalMappingError) as exc:
                raise ProtocolError(f"the response does not map to canonical: {exc}") from None
    if answer is None:
        raise ProtocolError(f"the answer holds no {expected.set_id} response")
    return answer


def _same_case(echoed: str | None, case_id: str) -> None:
    if echoed not in (None, case_id):
        raise ProtocolError("the response answers another request")


def _review(tree: LoopNode, case_id: str) -> Answer:
    response = read_278_response(tree)
    _same_case(response.case_id, case_id)
    return Answer(response.decision)


def _eligibility(tree: LoopNode, case_id: str) -> Answer:
    result: EligibilityResult = x279.read_271(tree)
    _same_case(result.case_id, case_id)
    return Answer(eligibility_decision(result), _json(result))


def _claim_status(tree: LoopNode, case_id: str) -> Answer:
    """A claim finalized as denied (F2) denies the inquiry's case, with its status code; any
    other answer settles it as answered, its category (A1, P1, F1...) as the reason."""
    result: ClaimStatusResult = x212.read_277(tree)
    _same_case(result.case_id, case_id)
    statuses = [s for claim in result.claims for s in claim.statuses]
    if not statuses:
        raise ProtocolError("the 277 carries no claim status")
    first = statuses[0]
    denied = next((s for s in statuses if s.category == "F2"), None)
    if denied is not None:
        decision = Decision(outcome=DecisionOutcome.denied, reason_code=denied.code or "F2")
    else:
        decision = Decision(outcome=DecisionOutcome.approved, reason_code=first.category)
    return Answer(decision, _json(result))


def _json(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


_READERS: dict[str, Callable[[LoopNode, str], Answer]] = {
    "278": _review,
    "271": _eligibility,
    "277": _claim_status,
}


def _raise_for_ta1(segment: Segment) -> None:
    try:
        ta1 = read_ta1(segment)
    except X12Error as exc:
        raise ProtocolError(f"the TA1 cannot be read: {exc}") from None
    if not ta1.accepted:
        note = TA1_CODES.get(ta1.note_code, "unknown note code")
        raise PermanentError(
            f"interchange {ta1.control_number} rejected (TA1 note {ta1.note_code}: {note})"
        )


def _raise_for_999(acknowledgment: Any) -> None:
    for transaction in acknowledgment.transactions:
        if transaction.accepted:
            continue
        reasons = [
            f"IK5 {c}: {TRANSACTION_CODES.get(c, 'unknown code')}" for c in transaction.codes
        ]
        for error in transaction.errors[:3]:
            where = f"segment {error.position} ({error.segment_id})"
            reasons.append(f"{where} IK3 {error.code}: {SEGMENT_CODES.get(error.code, '?')}")
            for element in error.elements[:3]:
                reasons.append(
                    f"{where} element {element.position:02d} IK4 {element.code}: "
                    f"{ELEMENT_CODES.get(element.code, '?')}"
                )
        raise PermanentError(
            f"999 rejected transaction set {transaction.set_id} {transaction.control_number}: "
            + "; ".join(reasons)
        )
    if acknowledgment.status not in ("A", "E", "P"):
        codes = ", ".join(f"{c}: {GROUP_CODES.get(c, '?')}" for c in acknowledgment.codes)
        raise PermanentError(
            f"999 rejected functional group {acknowledgment.group_control_number}"
            + (f" ({codes})" if codes else "")
        )
