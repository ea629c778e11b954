"""The three-way match: an invoice against its purchase order (what was ordered, at what
price) and the receipts (what arrived). Pure, so every tolerance rule is tested as a table.

A line may exceed the order or the receipt by the tolerance and still match: suppliers round,
and a receiving dock counts by the box. Anything beyond it is a discrepancy a person decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from canonical.cases import InvoiceExceptionRequest

HUNDRED = Decimal(100)


class Tolerances(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    quantity_percent: Decimal = Field(default=Decimal(0), ge=0, le=100)
    price_percent: Decimal = Field(default=Decimal(2), ge=0, le=100)


class DiscrepancyKind(StrEnum):
    supplier = "supplier"
    currency = "currency"
    not_on_order = "not_on_order"
    item = "item"
    price = "price"
    over_ordered = "over_ordered"
    not_received = "not_received"


class Discrepancy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: DiscrepancyKind
    line_number: int | None = None
    invoiced: str | None = None
    expected: str | None = None


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _within(invoiced: Decimal, allowed: Decimal, percent: Decimal) -> bool:
    return invoiced <= allowed * (1 + percent / HUNDRED)


def three_way_match(
    invoice: InvoiceExceptionRequest,
    order: Mapping[str, Any],
    receipts: Sequence[Mapping[str, Any]],
    tolerances: Tolerances,
) -> list[Discrepancy]:
    """Every discrepancy between the invoice, its order and its receipts; empty: it matches.

    `order` and `receipts` are in canonical field names, as the ERP connector's lookup gives
    them.
    """
    found: list[Discrepancy] = []
    if order.get("supplier_id") != invoice.supplier_id:
        found.append(Discrepancy(kind=DiscrepancyKind.supplier))
    if order.get("currency") not in (None, invoice.currency):
        found.append(Discrepancy(kind=DiscrepancyKind.currency))
    ordered = {line.get("line_number"): line for line in order.get("lines") or []}
    received: dict[Any, Decimal] = {}
    for receipt in receipts:
        quantity = _decimal(receipt.get("quantity")) or Decimal(0)
        number = receipt.get("line_number")
        received[number] = received.get(number, Decimal(0)) + quantity
    for line in invoice.lines:
        found.extend(_line_discrepancies(line.line_number, line, ordered, received, tolerances))
    return found


def _line_discrepancies(
    number: int,
    line: Any,
    ordered: Mapping[Any, Mapping[str, Any]],
    received: Mapping[Any, Decimal],
    tolerances: Tolerances,
) -> list[Discrepancy]:
    po_line = ordered.get(number)
    if po_line is None:
        return [Discrepancy(kind=DiscrepancyKind.not_on_order, line_number=number)]
    found: list[Discrepancy] = []
    if po_line.get("item_code") != line.item_code:
        found.append(Discrepancy(kind=DiscrepancyKind.item, line_number=number))
    price = _decimal(po_line.get("unit_price"))
    if price is None or not _within(line.unit_price, price, tolerances.price_percent):
        found.append(
            Discrepancy(
                kind=DiscrepancyKind.price,
                line_number=number,
                invoiced=str(line.unit_price),
                expected=str(price),
            )
        )
    quantity = _decimal(po_line.get("quantity"))
    if quantity is None or not _within(line.quantity, quantity, tolerances.quantity_percent):
        found.append(
            Discrepancy(
                kind=DiscrepancyKind.over_ordered,
                line_number=number,
                invoiced=str(line.quantity),
                expected=str(quantity),
            )
        )
    arrived = received.get(number, Decimal(0))
    if not _within(line.quantity, arrived, tolerances.quantity_percent):
        found.append(
            Discrepancy(
                kind=DiscrepancyKind.not_received,
                line_number=number,
                invoiced=str(line.quantity),
                expected=str(arrived),
            )
        )
    return found
