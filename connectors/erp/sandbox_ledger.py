"""What the ERP sandbox holds: purchase orders, receipts, suppliers, requisitions, posted
documents and GL entries; it validates postings the way an ERP's API does and counts effects.

Field names are kept in snake_case here; the OData face translates its PascalCase names at the
edge, so both faces share one set of rules.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.sandbox_kit import FaultQueue

COLLECTIONS = (
    "requisition_checkpoints",
    "schedule_updates",
    "expected_reimbursements",
    "ap_invoices",
)
_REQUIRED: dict[str, tuple[str, ...]] = {
    "requisition_checkpoints": ("external_id", "case_reference", "action"),
    "schedule_updates": ("external_id", "case_reference", "status"),
    "expected_reimbursements": ("external_id", "case_reference", "payer_id"),
    "ap_invoices": (
        "external_id",
        "supplier_id",
        "invoice_number",
        "purchase_order",
        "invoice_date",
        "currency",
        "lines",
    ),
}
_LINE_REQUIRED = ("line_number", "item_code", "quantity", "unit_price")


@dataclass(frozen=True)
class PurchaseOrder:
    number: str
    supplier_id: str
    currency: str
    lines: tuple[dict[str, Any], ...]
    receipts: tuple[dict[str, Any], ...] = ()


class Rejected(Exception):
    """A posting the ERP refuses; names the field, never its value."""

    def __init__(self, target: str, message: str) -> None:
        super().__init__(message)
        self.target = target
        self.message = message


@dataclass
class _Posting:
    collection: str
    document: dict[str, Any]
    duplicates: int = 0


@dataclass
class ErpLedger:
    purchase_orders: dict[str, PurchaseOrder]
    suppliers: frozenset[str]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _postings: dict[str, _Posting] = field(default_factory=dict)
    faults: FaultQueue = field(default_factory=FaultQueue)
    requisitions: dict[str, str] = field(default_factory=dict)
    gl_entries: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        with self._lock:
            self._postings.clear()
            self.requisitions.clear()
            self.gl_entries.clear()
        self.faults.clear()

    def post(self, collection: str, key: str, document: dict[str, Any]) -> dict[str, Any]:
        """Validate and store; the same key again answers the stored document, unchanged."""
        with self._lock:
            known = self._postings.get(key)
            if known is not None:
                known.duplicates += 1
                return known.document
            stored = {
                **_validated(collection, document, self),
                "id": f"D{len(self._postings) + 1:07d}",
            }
            self._postings[key] = _Posting(collection, stored)
            self._apply(collection, stored)
            return stored

    def _apply(self, collection: str, document: dict[str, Any]) -> None:
        """The side effects a real ERP has: a checkpoint moves the requisition, an AP invoice
        books a GL entry."""
        if collection == "requisition_checkpoints":
            self.requisitions[document["case_reference"]] = str(document["action"]).lower()
        elif collection == "ap_invoices":
            total = sum(
                Decimal(str(line["quantity"])) * Decimal(str(line["unit_price"]))
                for line in document["lines"]
            )
            self.gl_entries.append(
                {"invoice": document["id"], "account": "2000-AP", "amount": str(total)}
            )

    def find(self, collection: str, external_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                p.document
                for p in self._postings.values()
                if p.collection == collection and p.document.get("external_id") == external_id
            ]

    def effects(self, key: str | None = None) -> int:
        """Documents posted under `key` (or under keys derived from it, `key/document`)."""
        with self._lock:
            if key is None:
                return len(self._postings)
            return sum(1 for k in self._postings if k == key or k.startswith(key + "/"))

    def documents(self, collection: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p.document for p in self._postings.values() if p.collection == collection]


def _validated(collection: str, document: dict[str, Any], ledger: ErpLedger) -> dict[str, Any]:
    for name in _REQUIRED[collection]:
        if document.get(name) in (None, "", []):
            raise Rejected(name, f"{name} is required")
    if collection == "requisition_checkpoints" and str(document["action"]).lower() not in (
        "hold",
        "release",
    ):
        raise Rejected("action", "action must be hold or release")
    if collection == "ap_invoices":
        _check_invoice(document, ledger)
    return dict(document)


def _check_invoice(document: dict[str, Any], ledger: ErpLedger) -> None:
    if document["supplier_id"] not in ledger.suppliers:
        raise Rejected("supplier_id", "supplier_id is not a known supplier")
    order = ledger.purchase_orders.get(str(document["purchase_order"]))
    if order is None:
        raise Rejected("purchase_order", "purchase_order is not a known purchase order")
    if order.supplier_id != document["supplier_id"]:
        raise Rejected("supplier_id", "supplier_id is not the purchase order's supplier")
    if not isinstance(document["lines"], list):
        raise Rejected("lines", "lines must be a list")
    for index, line in enumerate(document["lines"]):
        for name in _LINE_REQUIRED:
            if not isinstance(line, dict) or line.get(name) in (None, ""):
                raise Rejected(f"lines/{index}/{name}", f"lines/{index}/{name} is required")
        try:
            quantity = Decimal(str(line["quantity"]))
            price = Decimal(str(line["unit_price"]))
        except InvalidOperation:
            raise Rejected(f"lines/{index}", "quantity and unit_price must be numbers") from None
        if quantity <= 0 or price < 0:
            raise Rejected(f"lines/{index}", "quantity must be positive, unit_price not negative")
