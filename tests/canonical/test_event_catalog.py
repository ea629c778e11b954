"""The event catalog: every domain event a subscriber cares about has one published form, and
that form carries only what the catalog names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from canonical.cases import CaseType
from canonical.event_catalog import (
    CATALOG_ADAPTER,
    EventType,
    catalog_event,
    catalog_json_schema,
    catalog_type,
)
from canonical.events import case_created, note_event, transition_event
from canonical.status import CaseStatus

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PA = CaseType.prior_authorization
S = CaseStatus


@pytest.mark.parametrize(
    ("domain_type", "case_type", "expected"),
    [
        ("case.approved", PA, EventType.authorization_approved),
        ("case.partially_approved", PA, EventType.authorization_partially_approved),
        ("case.denied", PA, EventType.authorization_denied),
        ("case.pended", PA, EventType.authorization_pended),
        ("case.more_info_requested", PA, EventType.authorization_more_information_requested),
        ("case.authorization_expired", PA, EventType.authorization_expired),
        ("case.sla_breached", PA, EventType.sla_breached),
        ("case.remittance_received", CaseType.claim_status, EventType.remittance_received),
        ("case.created", CaseType.denial_appeal, EventType.denial_opened),
        ("case.exception_opened", CaseType.invoice_exception, EventType.invoice_exception_opened),
        ("case.created", CaseType.invoice_exception, EventType.case_opened),
        ("case.approved", CaseType.invoice_exception, EventType.invoice_exception_resolved),
        ("case.denied", CaseType.invoice_exception, EventType.invoice_exception_resolved),
        ("case.approved", CaseType.eligibility_check, EventType.eligibility_checked),
        ("case.created", PA, EventType.case_opened),
        ("case.cancelled", CaseType.invoice_exception, EventType.case_cancelled),
        ("case.pended", CaseType.claim_status, EventType.case_pended),
        ("case.send_failed", PA, EventType.case_delivery_failed),
        ("case.attachment_added", PA, None),
    ],
)
def test_domain_events_map_to_catalog_types(
    domain_type: str, case_type: CaseType, expected: EventType | None
) -> None:
    assert catalog_type(domain_type, case_type) == expected


def test_a_decision_keeps_its_codes_and_dates_and_nothing_else() -> None:
    event = transition_event(
        "C1",
        S.submitted,
        S.denied,
        AT,
        {
            "outcome": "denied",
            "reason_code": "N",
            "reason_text": "Avery Testpatient is not covered",
            "member_id": "W123456789",
        },
    )
    published = catalog_event(event, sequence=3, case_type=PA, payer_id="ACMEHP")
    assert published is not None
    document = published.model_dump(mode="json")
    assert document["type"] == "authorization.denied"
    assert document["id"] == "evt_C1_3"
    assert document["case"] == {
        "id": "C1",
        "type": "prior_authorization",
        "payer_id": "ACMEHP",
        "sequence": 3,
    }
    assert document["data"]["reason_code"] == "N"
    assert "Testpatient" not in str(document) and "W123456789" not in str(document)


def test_openings_take_only_allow_listed_payload_fields() -> None:
    invoice = {
        "supplier_id": "SUP-1",
        "supplier_name": "Ortho Supply Co",
        "invoice_number": "INV-9",
        "purchase_order_number": "PO-7",
        "currency": "USD",
        "lines": [{"line_number": 1, "item_code": "X", "quantity": "1", "unit_price": "9"}],
    }
    published = catalog_event(
        note_event("C2", S.pended, "exception_opened", AT, invoice),
        sequence=4,
        case_type=CaseType.invoice_exception,
        payer_id="erp",
    )
    assert published is not None
    assert published.model_dump(mode="json")["data"] == {
        "supplier_id": "SUP-1",
        "invoice_number": "INV-9",
        "purchase_order_number": "PO-7",
        "currency": "USD",
    }
    appeal = catalog_event(
        case_created("C3", S.draft, AT),
        sequence=1,
        case_type=CaseType.denial_appeal,
        payer_id="ACMEHP",
        payload={"adjustments": [{"group": "CO", "reason_code": "50", "amount": "10.00"}]},
    )
    assert appeal is not None
    assert appeal.model_dump(mode="json")["data"] == {"adjustment_reasons": ["CO-50"]}


def test_internal_facts_are_not_published() -> None:
    note = note_event("C4", S.draft, "attachment_added", AT, {"sha256": "ab" * 32})
    assert catalog_event(note, sequence=2, case_type=PA, payer_id="ACMEHP") is None


def test_every_catalog_type_has_a_schema_and_round_trips() -> None:
    schema = catalog_json_schema()
    assert set(schema["discriminator"]["mapping"]) == {t.value for t in EventType}
    for kind in EventType:
        assert kind.value in schema["x-event-types"]
    event = transition_event("C5", S.submitted, S.approved, AT, {"auth_number": "AUTH-1"})
    published = catalog_event(event, sequence=2, case_type=PA, payer_id="ACMEHP")
    assert published is not None
    assert CATALOG_ADAPTER.validate_json(published.model_dump_json()) == published
    assert published.data.outcome == "approved"  # type: ignore[union-attr]
