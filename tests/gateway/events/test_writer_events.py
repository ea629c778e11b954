"""Every writer's domain event reaches the catalog under the type and with the facts subscribers
expect: built here by the writers' own code, so renaming an event or one of its facts in a
writer fails this table instead of silently starving the subscriptions that wait for it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from canonical.base import Period
from canonical.cases import CaseType, DenialAppealRequest, InvoiceExceptionRequest
from canonical.decisions import Decision, DecisionOutcome
from canonical.event_catalog import EventType, catalog_event
from canonical.events import DomainEvent, case_created, transition_event
from canonical.status import CaseStatus
from gateway.dispatch.worker import _decision_facts
from gateway.events.expiry import expired_event
from gateway.fhir.notifications import _facts as notification_facts
from gateway.hl7.changes import _cancel as hl7_cancel
from gateway.invoices.flow import _approved as invoice_approved
from gateway.invoices.flow import _opened as invoice_opened
from gateway.invoices.match import Discrepancy, DiscrepancyKind
from gateway.orchestration.sweeper import breach_event
from gateway.store.records import CaseRow
from gateway.store.work import NewWorkItem
from tests.gateway.api.support import EXAMPLES

AT = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
CASE = "case_01"
S = CaseStatus
PA = CaseType.prior_authorization
DECISION = Decision(
    outcome=DecisionOutcome.approved,
    auth_number="AUTH-778",
    reason_code="A1",
    authorized_period=Period(start=date(2026, 3, 1), end=date(2026, 5, 31)),
)


def _row(case_type: CaseType, status: CaseStatus) -> CaseRow:
    return CaseRow(
        id=CASE,
        tenant="default",
        type=case_type.value,
        status=status.value,
        version=3,
        payer_id="ACMEHP",
        urgency="standard",
        route="erp",
        payload={},
        decision=None,
        created_at=AT,
        updated_at=AT,
        decided_at=None,
    )


def _example(name: str) -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / name).read_text()))


def _invoice_exception() -> DomainEvent:
    invoice = InvoiceExceptionRequest.model_validate(_example("invoice-exception.json"))
    item = NewWorkItem(
        id="wi_1",
        tenant="default",
        case_id=CASE,
        kind="invoice_review",
        queue="ap-exceptions",
        role="ap_approver",
        detail={},
        sla_due_at=AT,
        created_at=AT,
    )
    found = [Discrepancy(kind=DiscrepancyKind.price, line_number=1)]
    pended, opened = invoice_opened(
        _row(CaseType.invoice_exception, S.submitted), invoice, found, item, AT
    )
    assert pended.type == "case.pended"
    return opened


def _denial_payload() -> dict[str, Any]:
    appeal = DenialAppealRequest.model_validate(_example("denial-appeal.json"))
    return appeal.model_dump(mode="json")


@dataclass(frozen=True)
class Written:
    writer: str
    event: Callable[[], DomainEvent]
    case_type: CaseType
    published: EventType
    data: dict[str, Any]
    payload: Callable[[], dict[str, Any]] = field(default=dict)


DECIDED_DATA = {
    "outcome": "approved",
    "auth_number": "AUTH-778",
    "reason_code": "A1",
    "authorized_from": "2026-03-01",
    "authorized_to": "2026-05-31",
}
WRITTEN = [
    Written(
        "intake",
        lambda: case_created(CASE, S.draft, AT, {"trace_id": "t"}),
        PA,
        EventType.case_opened,
        {"urgency": "urgent"},
        lambda: {"urgency": "urgent"},
    ),
    Written(
        "x12 835 pickup (an appeal opened from a denial)",
        lambda: case_created(CASE, S.draft, AT),
        CaseType.denial_appeal,
        EventType.denial_opened,
        {"adjustment_reasons": ["CO-197"]},
        _denial_payload,
    ),
    Written(
        "worker (payer decision)",
        lambda: transition_event(CASE, S.submitted, S.approved, AT, _decision_facts(DECISION)),
        PA,
        EventType.authorization_approved,
        DECIDED_DATA,
    ),
    Written(
        "PAS notification (payer decision)",
        lambda: transition_event(CASE, S.pended, S.approved, AT, notification_facts(DECISION)),
        PA,
        EventType.authorization_approved,
        {k: v for k, v in DECIDED_DATA.items() if not k.startswith("authorized_")},
    ),
    Written(
        "SLA sweeper",
        lambda: breach_event(CASE, S.pended, AT, "CMS-0057-F", AT),
        PA,
        EventType.sla_breached,
        {"clock": "CMS-0057-F", "due_at": "2026-03-02T08:30:00Z"},
    ),
    Written(
        "authorization expiry sweep",
        lambda: expired_event(CASE, S.approved, "AUTH-778", "2026-05-31", AT),
        PA,
        EventType.authorization_expired,
        {"auth_number": "AUTH-778", "expired_on": "2026-05-31"},
    ),
    Written(
        "invoice flow (mismatch)",
        _invoice_exception,
        CaseType.invoice_exception,
        EventType.invoice_exception_opened,
        {
            name: _example("invoice-exception.json")[name]
            for name in ("supplier_id", "invoice_number", "purchase_order_number", "currency")
        },
    ),
    Written(
        "invoice flow (approved and posted)",
        lambda: invoice_approved(CASE, S.pended, AT, {"reason_code": "posted"}),
        CaseType.invoice_exception,
        EventType.invoice_exception_resolved,
        {"outcome": "approved", "reason_code": "posted"},
    ),
    Written(
        "HL7 v2 order cancelled",
        lambda: hl7_cancel(_row(PA, S.submitted), S.submitted, AT, "order cancelled").event,
        PA,
        EventType.case_cancelled,
        {},
    ),
]


@pytest.mark.parametrize("written", WRITTEN, ids=[w.writer for w in WRITTEN])
def test_each_writer_reaches_its_subscribers(written: Written) -> None:
    published = catalog_event(
        written.event(),
        sequence=4,
        case_type=written.case_type,
        payer_id="ACMEHP",
        payload=written.payload(),
    )
    assert published is not None, f"{written.writer}: no catalog event"
    document = published.model_dump(mode="json", exclude_none=True)
    assert document["type"] == written.published.value
    assert document["data"] == written.data
