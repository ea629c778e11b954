"""`casegate convert --from canonical --to x12-278 | x12-270 | x12-276 | x12-837p | x12-837i`.

Each takes the canonical envelope (`{"case_type", "case_id", "payload", "x12"}`) or a bare
payload, validates it, and writes one interchange holding one transaction. The optional `x12`
member sets the interchange: `sender_id`, `sender_qualifier`, `receiver_id` (default: the
payer id), `receiver_qualifier`, `control_number`, `created` (ISO 8601), `usage` (T or P),
`line_break`, and `allow_left_out`: whatever X12 cannot carry refuses the conversion unless
that is true. Without a case id, one is derived from the payload, so the same payload gives
the same interchange. A claim has no case type of its own; its envelope omits `case_type` or
says `claim`, and its kind must match the 837 asked for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from canonical.cases import ClaimStatusRequest, EligibilityCheckRequest, PriorAuthorizationRequest
from canonical.claims import Claim, ClaimKind
from mappings.conversions import ConversionError, LocatedError, register
from mappings.pointers import located
from mappings.x12 import claim_status, eligibility
from mappings.x12.body_writer import LeftOut
from mappings.x12.claims import GUIDE, claim_body
from mappings.x12.envelope_builder import (
    Group,
    InterchangeHeader,
    Party,
    Transaction,
    build_interchange,
)
from mappings.x12.errors import X12Error
from mappings.x12.prior_auth_request import request_body
from mappings.x12.segments import Segment
from mappings.x12.specs import X212_276, X217_REQUEST, X279_270

Body = Callable[[str, Any, InterchangeHeader], tuple[list[Segment], list[LeftOut]]]


def parse_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", 1)
        raise ConversionError(
            "not JSON", [LocatedError(f"line {line}", "malformed JSON")]
        ) from None


def interchange_header(options: dict[str, Any], receiver: str) -> InterchangeHeader:
    """The envelope the `x12` options ask for; the receiver defaults to the payer id."""
    created = options.get("created")
    usage = str(options.get("usage", "T"))
    if usage not in ("P", "T"):
        raise ValueError("usage is P (production) or T (test)")
    return InterchangeHeader(
        sender=Party(
            str(options.get("sender_id", "CASEGATE")), str(options.get("sender_qualifier", "ZZ"))
        ),
        receiver=Party(
            str(options.get("receiver_id", receiver)),
            str(options.get("receiver_qualifier", "ZZ")),
        ),
        control_number=int(options.get("control_number", 1)),
        created=datetime.fromisoformat(created) if created else datetime.now(UTC),
        usage=usage,
        line_break=str(options.get("line_break", "\n")),
    )


@dataclass(frozen=True, slots=True)
class Outbound:
    case_type: str
    model: type[BaseModel]
    set_id: str
    functional_id: str
    reference: Callable[[Any], str]
    body: Body


def _prior_authorization(case_id: str, request: Any, header: InterchangeHeader) -> Any:
    return request_body(case_id, request, created=header.created, delimiters=header.delimiters)


def _eligibility(case_id: str, request: Any, header: InterchangeHeader) -> Any:
    return eligibility.inquiry_body(
        case_id, request, created=header.created, delimiters=header.delimiters
    )


def _status(case_id: str, request: Any, header: InterchangeHeader) -> Any:
    return claim_status.inquiry_body(
        case_id, request, created=header.created, delimiters=header.delimiters
    )


def _claim(case_id: str, claim: Any, header: InterchangeHeader) -> Any:
    return claim_body(
        case_id,
        claim,
        created=header.created,
        submitter_id=header.sender.id,
        receiver_id=header.receiver.id,
        delimiters=header.delimiters,
    )


PRIOR_AUTHORIZATION = Outbound(
    "prior_authorization",
    PriorAuthorizationRequest,
    "278",
    "HI",
    lambda _: X217_REQUEST.reference,
    _prior_authorization,
)
ELIGIBILITY = Outbound(
    "eligibility_check",
    EligibilityCheckRequest,
    "270",
    "HS",
    lambda _: X279_270.reference,
    _eligibility,
)
STATUS = Outbound(
    "claim_status", ClaimStatusRequest, "276", "HR", lambda _: X212_276.reference, _status
)
CLAIM = Outbound("claim", Claim, "837", "HC", lambda claim: GUIDE[claim.kind], _claim)


def write(data: bytes, outbound: Outbound, kind: ClaimKind | None = None) -> bytes:
    document = parse_json(data)
    payload: Any = document
    case_id: Any = None
    options: Any = {}
    if isinstance(document, dict) and "payload" in document:
        if document.get("case_type", outbound.case_type) != outbound.case_type:
            raise ConversionError(
                f"a {outbound.set_id} carries a {outbound.case_type}",
                [LocatedError("/case_type", f"must be {outbound.case_type}")],
            )
        payload, case_id = document["payload"], document.get("case_id")
        options = document.get("x12") or {}
    prefix = "/payload" if payload is not document else ""
    try:
        model: Any = outbound.model.model_validate(payload)
    except ValidationError as exc:
        errors = [LocatedError(prefix + p, m) for p, m in located(exc)]
        raise ConversionError(
            f"invalid {outbound.case_type}: {len(errors)} error(s)", errors
        ) from None
    if kind is not None and model.kind is not kind:
        raise ConversionError(
            f"the claim is not {kind.value}", [LocatedError(f"{prefix}/kind", f"must be {kind}")]
        )
    if not isinstance(options, dict):
        raise ConversionError("x12 options", [LocatedError("/x12", "must be an object")])
    if case_id is None:
        digest = hashlib.sha256(model.model_dump_json().encode()).hexdigest()
        case_id = f"cg-{digest[:16]}"
    if not isinstance(case_id, str):
        raise ConversionError("case id", [LocatedError("/case_id", "must be a string")])
    try:
        header = interchange_header(options, model.payer.id)
        body, left_out = outbound.body(case_id, model, header)
        transaction = Transaction(outbound.set_id, "0001", body)
        group = Group(
            outbound.functional_id, outbound.reference(model), header.control_number, [transaction]
        )
        interchange = build_interchange(header, [group])
    except (X12Error, ValueError, TypeError) as exc:
        raise ConversionError(
            f"cannot build the {outbound.set_id}", [LocatedError("/x12", str(exc))]
        ) from None
    if left_out and options.get("allow_left_out") is not True:
        raise ConversionError(
            f"{len(left_out)} part(s) do not fit a {outbound.set_id}; x12.allow_left_out sends it",
            [LocatedError(prefix + item.pointer, item.reason) for item in left_out],
        )
    return interchange.to_bytes()


@register("canonical", "x12-278")
def canonical_to_x12_278(data: bytes) -> bytes:
    return write(data, PRIOR_AUTHORIZATION)


@register("canonical", "x12-270")
def canonical_to_x12_270(data: bytes) -> bytes:
    return write(data, ELIGIBILITY)


@register("canonical", "x12-276")
def canonical_to_x12_276(data: bytes) -> bytes:
    return write(data, STATUS)


@register("canonical", "x12-837p")
def canonical_to_x12_837p(data: bytes) -> bytes:
    return write(data, CLAIM, ClaimKind.professional)


@register("canonical", "x12-837i")
def canonical_to_x12_837i(data: bytes) -> bytes:
    return write(data, CLAIM, ClaimKind.institutional)
