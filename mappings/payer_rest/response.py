"""The payer's JSON decision <-> canonical `Decision`.

The parser treats the payer's answer as untrusted input: whatever JSON arrives, it either
returns a valid `Decision` or raises `PayerResponseError` naming the JSON pointer of the first
bad field, never echoing its value (a payer may put patient details anywhere). Fields it does
not know are ignored, so the payer can add some without breaking us. `render_decision` is the
inverse; the sandbox that plays this payer answers with it.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import ValidationError

from canonical.base import Period
from canonical.decisions import Decision, ItemDecision
from mappings.payer_rest.vocabulary import (
    DECISION_STATUS,
    DECISION_STATUS_WORD,
    SERVICE_STATUS,
    SERVICE_STATUS_WORD,
    decimal_text,
)

T = TypeVar("T")
MAX_SERVICES = 50
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_DECIMAL = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,6})?$")
_NEEDS_AUTH_NUMBER = frozenset({"APPROVED", "PARTIALLY_APPROVED"})
_NEEDS_REASON = frozenset({"DENIED", "MORE_INFO_REQUIRED"})
# Where a canonical field came from, for the rare error only the canonical model catches.
_WIRE_POINTER = {
    "auth_number": "/authorizationNumber",
    "authorized_period": "/validFrom",
    "reason_code": "/reason/code",
    "reason_text": "/reason/text",
    "payer_reference": "/referenceNumber",
    "items": "/services",
    "decided_at": "/decidedAt",
}


class PayerResponseError(ValueError):
    """The payer's response is off contract at `pointer` (RFC 6901; "" is the whole body)."""

    def __init__(self, pointer: str, problem: str) -> None:
        self.pointer = pointer
        self.problem = problem
        super().__init__(f"{pointer or '(response)'}: {problem}")


def parse_decision(document: object, *, request_id: str | None = None) -> Decision:
    """Read a decision; `request_id`, when given, must match the echoed `requestId`."""
    body = _object(document, "")
    echoed = _text(body, "requestId", "", max_length=200)
    if request_id is not None and echoed is not None and echoed != request_id:
        raise PayerResponseError("/requestId", "does not match the request")
    status = _required(_text(body, "status", "", max_length=40), "/status")
    if status not in DECISION_STATUS:
        raise PayerResponseError("/status", "is not a known decision status")
    reference = _required(_text(body, "referenceNumber", "", max_length=80), "/referenceNumber")
    auth_number = _text(body, "authorizationNumber", "", max_length=50)
    if status in _NEEDS_AUTH_NUMBER and auth_number is None:
        raise PayerResponseError("/authorizationNumber", "is required for an approval")
    reason_code, reason_text = _reason(body, required=status in _NEEDS_REASON)
    services = _services(body)
    if status == "PARTIALLY_APPROVED" and not services:
        raise PayerResponseError("/services", "must list the services of a partial approval")
    try:
        return Decision(
            outcome=DECISION_STATUS[status],
            auth_number=auth_number,
            authorized_period=_period(body),
            reason_code=reason_code,
            reason_text=reason_text,
            payer_reference=reference,
            items=services,
            decided_at=_timestamp(body, "decidedAt"),
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else ""
        raise PayerResponseError(_WIRE_POINTER.get(field, ""), "is not valid") from None


def render_decision(decision: Decision, *, request_id: str) -> dict[str, Any]:
    """The payer's JSON for `decision`; it must carry the payer reference."""
    if decision.payer_reference is None:
        raise ValueError("a payer response needs the decision's payer_reference")
    body: dict[str, Any] = {
        "requestId": request_id,
        "referenceNumber": decision.payer_reference,
        "status": DECISION_STATUS_WORD[decision.outcome],
    }
    if decision.auth_number is not None:
        body["authorizationNumber"] = decision.auth_number
    if decision.authorized_period is not None:
        body["validFrom"] = decision.authorized_period.start.isoformat()
        if decision.authorized_period.end is not None:
            body["validTo"] = decision.authorized_period.end.isoformat()
    reason = {"code": decision.reason_code, "text": decision.reason_text}
    if any(reason.values()):
        body["reason"] = {key: value for key, value in reason.items() if value is not None}
    if decision.decided_at is not None:
        body["decidedAt"] = decision.decided_at.isoformat()
    if decision.items:
        body["services"] = [_render_item(item) for item in decision.items]
    return body


def _render_item(item: ItemDecision) -> dict[str, Any]:
    service: dict[str, Any] = {
        "sequence": item.sequence,
        "status": SERVICE_STATUS_WORD[item.action],
    }
    if item.authorized_units is not None:
        service["approvedQuantity"] = decimal_text(item.authorized_units)
    if item.reason_code is not None:
        service["reasonCode"] = item.reason_code
    return service


def _member(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _object(value: object, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayerResponseError(pointer, "must be a JSON object")
    return value


def _required(value: T | None, pointer: str) -> T:
    if value is None:
        raise PayerResponseError(pointer, "is required")
    return value


def _text(body: dict[str, Any], key: str, at: str, *, max_length: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    pointer = at + _member(key)
    if not isinstance(value, str):
        raise PayerResponseError(pointer, "must be a string")
    value = value.strip()
    if not value:
        raise PayerResponseError(pointer, "must not be blank")
    if len(value) > max_length:
        raise PayerResponseError(pointer, f"must be at most {max_length} characters")
    return value


def _reason(body: dict[str, Any], *, required: bool) -> tuple[str | None, str | None]:
    """A denial or information request must say why with a code; elsewhere a reason is a note."""
    raw = body.get("reason")
    if raw is None:
        if required:
            raise PayerResponseError("/reason", "is required for a denial or information request")
        return None, None
    reason = _object(raw, "/reason")
    code = _text(reason, "code", "/reason", max_length=20)
    if required and code is None:
        raise PayerResponseError("/reason/code", "is required for a denial or information request")
    return code, _text(reason, "text", "/reason", max_length=1000)


def _date(body: dict[str, Any], key: str) -> date | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        raise PayerResponseError(_member(key), "must be a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PayerResponseError(_member(key), "is not a calendar date") from None


def _period(body: dict[str, Any]) -> Period | None:
    start, end = _date(body, "validFrom"), _date(body, "validTo")
    if start is None:
        if end is not None:
            raise PayerResponseError("/validFrom", "is required when validTo is given")
        return None
    if end is not None and end < start:
        raise PayerResponseError("/validTo", "is before validFrom")
    return Period(start=start, end=end)


def _timestamp(body: dict[str, Any], key: str) -> datetime | None:
    value = body.get(key)
    if value is None:
        return None
    pointer = _member(key)
    if not isinstance(value, str) or len(value) > 40:
        raise PayerResponseError(pointer, "must be an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PayerResponseError(pointer, "must be an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise PayerResponseError(pointer, "must carry a UTC offset")
    return parsed


def _services(body: dict[str, Any]) -> list[ItemDecision]:
    raw = body.get("services")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PayerResponseError("/services", "must be an array")
    if len(raw) > MAX_SERVICES:
        raise PayerResponseError("/services", f"must have at most {MAX_SERVICES} entries")
    items: list[ItemDecision] = []
    seen: set[int] = set()
    for index, entry in enumerate(raw):
        at = f"/services/{index}"
        service = _object(entry, at)
        sequence = service.get("sequence")
        if isinstance(sequence, bool) or not isinstance(sequence, int) or not 1 <= sequence <= 999:
            raise PayerResponseError(f"{at}/sequence", "must be an integer from 1 to 999")
        if sequence in seen:
            raise PayerResponseError(f"{at}/sequence", "repeats an earlier service")
        seen.add(sequence)
        status = _required(_text(service, "status", at, max_length=40), f"{at}/status")
        if status not in SERVICE_STATUS:
            raise PayerResponseError(f"{at}/status", "is not a known service status")
        items.append(
            ItemDecision(
                sequence=sequence,
                action=SERVICE_STATUS[status],
                authorized_units=_quantity(service, "approvedQuantity", at),
                reason_code=_text(service, "reasonCode", at, max_length=20),
            )
        )
    return items


def _quantity(body: dict[str, Any], key: str, at: str) -> Decimal | None:
    value = body.get(key)
    if value is None:
        return None
    pointer = at + _member(key)
    problem = "must be a non-negative decimal (at most 12 digits, 6 after the point)"
    if isinstance(value, bool):
        raise PayerResponseError(pointer, problem)
    if isinstance(value, int):
        value = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise PayerResponseError(pointer, problem)
        value = repr(value)
    if not isinstance(value, str) or not _DECIMAL.match(value):
        raise PayerResponseError(pointer, problem)
    return Decimal(value)
