"""Posted documents and configurations shared by the ERP connector tests."""

from __future__ import annotations

from typing import Any

from tests.connectors.connector_test_support import CLIENT_ID, SECRET_ENV

CASE = {"id": "01JCASE0000000000000000001", "type": "prior_authorization", "payer_id": "ACMEHP"}


def event(event_type: str, **data: Any) -> dict[str, Any]:
    """A catalog event as the delivery worker posts it."""
    return {
        "id": f"evt-{event_type}",
        "type": event_type,
        "version": 1,
        "occurred_at": "2026-11-23T10:00:00Z",
        "case": {**CASE, "sequence": 3},
        "data": {"outcome": "approved", "auth_number": "AUTH-77", **data},
    }


def approved_invoice(**changes: Any) -> dict[str, Any]:
    invoice = {
        "supplier_id": "SUP-100",
        "supplier_name": "Orthopedic Supply Co",
        "invoice_number": "INV-9001",
        "purchase_order_number": "PO-1001",
        "invoice_date": "2026-11-20",
        "currency": "USD",
        "lines": [
            {
                "line_number": 1,
                "item_code": "IMPLANT-KNEE-TKA",
                "quantity": "2",
                "unit_price": "4500.00",
            },
            {"line_number": 2, "item_code": "SCREW-6.5", "quantity": "10", "unit_price": "35.50"},
        ],
    } | changes
    return {"id": "inv-approval-1", "type": "invoice.approved", "invoice": invoice}


def erp_config(base_url: str, profile: str, **auth: Any) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "profile": profile,
        "timeout_seconds": 5,
        "auth": {
            "token_url": f"{base_url.removesuffix('/odata/v4')}/oauth/token",
            "client_id": CLIENT_ID,
            "client_secret": f"env:{SECRET_ENV}",
        }
        | auth,
    }
