"""The event catalog: what subscribers (ERP, scheduling, finance, internal apps) are told.

Domain events (canonical.events) are the gateway's own history and carry whatever a transition
needed; catalog events are a published contract, versioned and PHI-minimal: ids, codes, dates
and the authorization number, never a name, a member id or a clinical payload. Each catalog
model forbids unknown fields, so a fact can reach a subscriber only by being named here.

`catalog_event` is the one place that turns a domain event into a catalog event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from canonical.base import CanonicalModel
from canonical.cases import CaseType
from canonical.events import DomainEvent

CATALOG_VERSION: Literal[1] = 1
_Code = Annotated[str, Field(max_length=20)]


class EventType(StrEnum):
    authorization_approved = "authorization.approved"
    authorization_partially_approved = "authorization.partially_approved"
    authorization_denied = "authorization.denied"
    authorization_pended = "authorization.pended"
    authorization_more_information_requested = "authorization.more_information_requested"
    authorization_expired = "authorization.expired"
    authorization_appealed = "authorization.appealed"
    sla_breached = "sla.breached"
    remittance_received = "remittance.received"
    denial_opened = "denial.opened"
    appeal_decided = "appeal.decided"
    invoice_exception_opened = "invoice_exception.opened"
    invoice_exception_resolved = "invoice_exception.resolved"
    eligibility_checked = "eligibility.checked"
    claim_status_received = "claim_status.received"
    case_opened = "case.opened"
    case_submitted = "case.submitted"
    case_pended = "case.pended"
    case_more_information_requested = "case.more_information_requested"
    case_cancelled = "case.cancelled"
    case_closed = "case.closed"
    case_delivery_failed = "case.delivery_failed"


class EventSubject(CanonicalModel):
    """The case an event is about; `sequence` orders one case's events (gaps are filtered)."""

    id: str = Field(max_length=64)
    type: CaseType
    payer_id: str = Field(max_length=80)
    sequence: int = Field(ge=1)


class _Event(CanonicalModel):
    id: str = Field(description="Unique per event and stable across retries (webhook-id).")
    version: Literal[1] = CATALOG_VERSION
    occurred_at: datetime
    case: EventSubject


class DecisionData(CanonicalModel):
    outcome: str = Field(max_length=40)
    auth_number: str | None = Field(default=None, max_length=50)
    reason_code: _Code | None = None
    authorized_from: date | None = None
    authorized_to: date | None = None


class ReasonData(CanonicalModel):
    reason_code: _Code | None = None


class ExpiredData(CanonicalModel):
    auth_number: str | None = Field(default=None, max_length=50)
    expired_on: date | None = None


class SlaBreachedData(CanonicalModel):
    clock: str | None = Field(default=None, max_length=40)
    due_at: datetime | None = None


class RemittanceData(CanonicalModel):
    claim_status_code: _Code | None = None
    paid_amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    payment_trace: str | None = Field(default=None, max_length=50)


class DenialOpenedData(CanonicalModel):
    adjustment_reasons: list[str] = Field(
        default_factory=list, description="CAS group and CARC, as 'CO-50'."
    )


class InvoiceExceptionOpenedData(CanonicalModel):
    supplier_id: str = Field(max_length=50)
    invoice_number: str = Field(max_length=50)
    purchase_order_number: str = Field(max_length=50)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class OpenedData(CanonicalModel):
    urgency: str | None = Field(default=None, max_length=20)


class SubmittedData(CanonicalModel):
    route: str | None = Field(default=None, max_length=80)


class CancelledData(CanonicalModel):
    cancelled_by: str | None = Field(default=None, max_length=128, description="A client id.")


class DeliveryFailedData(CanonicalModel):
    reason: str | None = Field(default=None, max_length=500)


class EmptyData(CanonicalModel):
    pass


class AuthorizationApproved(_Event):
    type: Literal[EventType.authorization_approved] = EventType.authorization_approved
    data: DecisionData


class AuthorizationPartiallyApproved(_Event):
    type: Literal[EventType.authorization_partially_approved] = (
        EventType.authorization_partially_approved
    )
    data: DecisionData


class AuthorizationDenied(_Event):
    type: Literal[EventType.authorization_denied] = EventType.authorization_denied
    data: DecisionData


class AuthorizationPended(_Event):
    type: Literal[EventType.authorization_pended] = EventType.authorization_pended
    data: ReasonData


class AuthorizationMoreInformationRequested(_Event):
    type: Literal[EventType.authorization_more_information_requested] = (
        EventType.authorization_more_information_requested
    )
    data: ReasonData


class AuthorizationExpired(_Event):
    type: Literal[EventType.authorization_expired] = EventType.authorization_expired
    data: ExpiredData


class AuthorizationAppealed(_Event):
    type: Literal[EventType.authorization_appealed] = EventType.authorization_appealed
    data: EmptyData


class SlaBreached(_Event):
    type: Literal[EventType.sla_breached] = EventType.sla_breached
    data: SlaBreachedData


class RemittanceReceived(_Event):
    type: Literal[EventType.remittance_received] = EventType.remittance_received
    data: RemittanceData


class DenialOpened(_Event):
    type: Literal[EventType.denial_opened] = EventType.denial_opened
    data: DenialOpenedData


class AppealDecided(_Event):
    type: Literal[EventType.appeal_decided] = EventType.appeal_decided
    data: DecisionData


class InvoiceExceptionOpened(_Event):
    type: Literal[EventType.invoice_exception_opened] = EventType.invoice_exception_opened
    data: InvoiceExceptionOpenedData


class InvoiceExceptionResolved(_Event):
    type: Literal[EventType.invoice_exception_resolved] = EventType.invoice_exception_resolved
    data: DecisionData


class EligibilityChecked(_Event):
    type: Literal[EventType.eligibility_checked] = EventType.eligibility_checked
    data: DecisionData


class ClaimStatusReceived(_Event):
    type: Literal[EventType.claim_status_received] = EventType.claim_status_received
    data: DecisionData


class CaseOpened(_Event):
    type: Literal[EventType.case_opened] = EventType.case_opened
    data: OpenedData


class CaseSubmitted(_Event):
    type: Literal[EventType.case_submitted] = EventType.case_submitted
    data: SubmittedData


class CasePended(_Event):
    type: Literal[EventType.case_pended] = EventType.case_pended
    data: ReasonData


class CaseMoreInformationRequested(_Event):
    type: Literal[EventType.case_more_information_requested] = (
        EventType.case_more_information_requested
    )
    data: ReasonData


class CaseCancelled(_Event):
    type: Literal[EventType.case_cancelled] = EventType.case_cancelled
    data: CancelledData


class CaseClosed(_Event):
    type: Literal[EventType.case_closed] = EventType.case_closed
    data: EmptyData


class CaseDeliveryFailed(_Event):
    type: Literal[EventType.case_delivery_failed] = EventType.case_delivery_failed
    data: DeliveryFailedData


CatalogEvent = Annotated[
    AuthorizationApproved
    | AuthorizationPartiallyApproved
    | AuthorizationDenied
    | AuthorizationPended
    | AuthorizationMoreInformationRequested
    | AuthorizationExpired
    | AuthorizationAppealed
    | SlaBreached
    | RemittanceReceived
    | DenialOpened
    | AppealDecided
    | InvoiceExceptionOpened
    | InvoiceExceptionResolved
    | EligibilityChecked
    | ClaimStatusReceived
    | CaseOpened
    | CaseSubmitted
    | CasePended
    | CaseMoreInformationRequested
    | CaseCancelled
    | CaseClosed
    | CaseDeliveryFailed,
    Field(discriminator="type"),
]
CATALOG_ADAPTER: TypeAdapter[CatalogEvent] = TypeAdapter(CatalogEvent)

# What each catalog event takes from the domain event's data (and, for openings, the case
# payload): an allow-list, so nothing else can ride along.
_Facts = Callable[[DomainEvent, Mapping[str, Any]], dict[str, Any]]


def _pick(data: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: data[name] for name in names if data.get(name) is not None}


def _data(*names: str) -> _Facts:
    return lambda event, _: _pick(event.data, *names)


def _decision(event: DomainEvent, _: Mapping[str, Any]) -> dict[str, Any]:
    facts = _pick(event.data, "auth_number", "reason_code", "authorized_from", "authorized_to")
    return {"outcome": event.data.get("outcome") or event.to_status.value, **facts}


def _opened(_: DomainEvent, payload: Mapping[str, Any]) -> dict[str, Any]:
    return _pick(payload, "urgency")


def _denial_opened(_: DomainEvent, payload: Mapping[str, Any]) -> dict[str, Any]:
    adjustments = payload.get("adjustments") or []
    return {"adjustment_reasons": [f"{a['group']}-{a['reason_code']}" for a in adjustments]}


def _cancelled(event: DomainEvent, _: Mapping[str, Any]) -> dict[str, Any]:
    by = event.data.get("by")
    return {"cancelled_by": by} if by else {}


_reason = _data("reason_code")
_nothing = _data()


_DECIDED = ("case.approved", "case.partially_approved", "case.denied")
_PA = CaseType.prior_authorization
_RULES: dict[tuple[str, CaseType | None], tuple[EventType, _Facts]] = {
    ("case.approved", _PA): (EventType.authorization_approved, _decision),
    ("case.partially_approved", _PA): (EventType.authorization_partially_approved, _decision),
    ("case.denied", _PA): (EventType.authorization_denied, _decision),
    ("case.pended", _PA): (EventType.authorization_pended, _reason),
    ("case.more_info_requested", _PA): (
        EventType.authorization_more_information_requested,
        _reason,
    ),
    ("case.authorization_expired", _PA): (
        EventType.authorization_expired,
        _data("auth_number", "expired_on"),
    ),
    ("case.appealed", _PA): (EventType.authorization_appealed, _nothing),
    ("case.created", CaseType.denial_appeal): (EventType.denial_opened, _denial_opened),
    # An invoice exception opens when the three-way match fails, not at intake: a matching
    # invoice is posted without one.
    ("case.exception_opened", CaseType.invoice_exception): (
        EventType.invoice_exception_opened,
        _data("supplier_id", "invoice_number", "purchase_order_number", "currency"),
    ),
    **{(t, CaseType.denial_appeal): (EventType.appeal_decided, _decision) for t in _DECIDED},
    **{
        (t, CaseType.invoice_exception): (EventType.invoice_exception_resolved, _decision)
        for t in _DECIDED
    },
    **{
        (t, CaseType.eligibility_check): (EventType.eligibility_checked, _decision)
        for t in _DECIDED
    },
    **{(t, CaseType.claim_status): (EventType.claim_status_received, _decision) for t in _DECIDED},
    # Any case type, when no rule above is more specific.
    ("case.created", None): (EventType.case_opened, _opened),
    ("case.submitted", None): (EventType.case_submitted, _data("route")),
    ("case.pended", None): (EventType.case_pended, _reason),
    ("case.more_info_requested", None): (EventType.case_more_information_requested, _reason),
    ("case.cancelled", None): (EventType.case_cancelled, _cancelled),
    ("case.closed", None): (EventType.case_closed, _nothing),
    ("case.send_failed", None): (EventType.case_delivery_failed, _data("reason")),
    ("case.sla_breached", None): (EventType.sla_breached, _data("clock", "due_at")),
    ("case.remittance_received", None): (
        EventType.remittance_received,
        _data("claim_status_code", "paid_amount", "payment_trace"),
    ),
}


def _rule(domain_type: str, case_type: CaseType) -> tuple[EventType, _Facts] | None:
    return _RULES.get((domain_type, case_type)) or _RULES.get((domain_type, None))


def catalog_type(domain_type: str, case_type: CaseType) -> EventType | None:
    """The catalog event a domain event becomes, or None for internal facts (no lookup cost
    beyond a dict, so writers can skip building events nobody subscribed to)."""
    rule = _rule(domain_type, case_type)
    return None if rule is None else rule[0]


def event_id(case_id: str, sequence: int) -> str:
    return f"evt_{case_id}_{sequence}"


def catalog_event(
    event: DomainEvent,
    *,
    sequence: int,
    case_type: CaseType,
    payer_id: str,
    payload: Mapping[str, Any] | None = None,
) -> CatalogEvent | None:
    """The published form of a domain event (the `sequence`-th of its case), or None."""
    rule = _rule(event.type, case_type)
    if rule is None:
        return None
    kind, facts = rule
    return CATALOG_ADAPTER.validate_python(
        {
            "type": kind,
            "id": event_id(event.case_id, sequence),
            "occurred_at": event.occurred_at,
            "case": {
                "id": event.case_id,
                "type": case_type,
                "payer_id": payer_id,
                "sequence": sequence,
            },
            "data": facts(event, payload or {}),
        }
    )


def catalog_json_schema() -> dict[str, Any]:
    """One JSON Schema (2020-12) for every catalog event, discriminated by `type`."""
    schema = CATALOG_ADAPTER.json_schema(ref_template="#/$defs/{model}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:casegate:events:v1",
        "title": "casegate events",
        "description": (
            "Every event casegate publishes to subscribers. `type` names the event, `version` "
            "its schema version; `case.sequence` orders one case's events."
        ),
        **schema,
        "x-event-types": {kind.value: {"version": CATALOG_VERSION} for kind in EventType},
    }
