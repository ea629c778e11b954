"""The three-way match, rule by rule, against one purchase order and its receipts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from canonical.cases import InvoiceExceptionRequest
from gateway.invoices.match import DiscrepancyKind, Tolerances, three_way_match

ORDER: dict[str, Any] = {
    "purchase_order_number": "PO-1001",
    "supplier_id": "SUP-100",
    "currency": "USD",
    "lines": [
        {"line_number": 1, "item_code": "IMPLANT", "quantity": "2", "unit_price": "4500.00"},
        {"line_number": 2, "item_code": "SCREW", "quantity": "100", "unit_price": "35.50"},
    ],
}
RECEIPTS = [
    {"line_number": 1, "quantity": "2"},
    {"line_number": 2, "quantity": "60"},
    {"line_number": 2, "quantity": "40"},  # two deliveries for one line add up
]


def _invoice(*lines: tuple[int, str, str, str], **changes: Any) -> InvoiceExceptionRequest:
    return InvoiceExceptionRequest.model_validate(
        {
            "supplier_id": "SUP-100",
            "supplier_name": "Orthopedic Supply Co",
            "invoice_number": "INV-1",
            "purchase_order_number": "PO-1001",
            "invoice_date": "2026-11-20",
            "lines": [
                {"line_number": n, "item_code": item, "quantity": qty, "unit_price": price}
                for n, item, qty, price in lines
            ],
        }
        | changes
    )


EXACT = ((1, "IMPLANT", "2", "4500.00"), (2, "SCREW", "100", "35.50"))


@pytest.mark.parametrize(
    ("lines", "changes", "tolerances", "expected"),
    [
        (EXACT, {}, Tolerances(), []),
        # 1.9% over the order price is inside the default 2%; 2.1% is not.
        (((1, "IMPLANT", "2", "4585.50"),), {}, Tolerances(), []),
        (((1, "IMPLANT", "2", "4594.50"),), {}, Tolerances(), [(DiscrepancyKind.price, 1)]),
        (
            ((1, "IMPLANT", "3", "4500.00"),),
            {},
            Tolerances(),
            [(DiscrepancyKind.over_ordered, 1), (DiscrepancyKind.not_received, 1)],
        ),
        # 105 of 100 screws: a 5% quantity tolerance lets it through, none does not.
        (((2, "SCREW", "105", "35.50"),), {}, Tolerances(quantity_percent=Decimal(5)), []),
        (
            ((2, "SCREW", "105", "35.50"),),
            {},
            Tolerances(),
            [(DiscrepancyKind.over_ordered, 2), (DiscrepancyKind.not_received, 2)],
        ),
        (((3, "GLOVES", "1", "9.00"),), {}, Tolerances(), [(DiscrepancyKind.not_on_order, 3)]),
        (((1, "KNEE-OTHER", "2", "4500.00"),), {}, Tolerances(), [(DiscrepancyKind.item, 1)]),
        (EXACT, {"supplier_id": "SUP-999"}, Tolerances(), [(DiscrepancyKind.supplier, None)]),
        (EXACT, {"currency": "EUR"}, Tolerances(), [(DiscrepancyKind.currency, None)]),
    ],
)
def test_discrepancies(
    lines: tuple[tuple[int, str, str, str], ...],
    changes: dict[str, Any],
    tolerances: Tolerances,
    expected: list[tuple[DiscrepancyKind, int | None]],
) -> None:
    found = three_way_match(_invoice(*lines, **changes), ORDER, RECEIPTS, tolerances)
    assert [(d.kind, d.line_number) for d in found] == expected


def test_an_invoice_for_goods_not_yet_received_does_not_match() -> None:
    found = three_way_match(_invoice(*EXACT), ORDER, [], Tolerances())
    assert {(d.kind, d.line_number, d.expected) for d in found} == {
        (DiscrepancyKind.not_received, 1, "0"),
        (DiscrepancyKind.not_received, 2, "0"),
    }
