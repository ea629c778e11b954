"""A fake ERP for tests and the demo: requisitions, purchase orders, receipts, invoices and GL
entries behind an OData v4 service and a REST API, with its own OAuth2 token endpoint,
validation as a real ERP does it, fault injection and an effect log.

    python -m connectors.erp.sandbox --port 0

Without arguments it knows one client, `casegate`, whose secret it reads from the environment
variable ERP_SANDBOX_CLIENT_SECRET, and the purchase orders of `default_purchase_orders()`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from connectors.erp.sandbox_app import ErpRuntime, build_app
from connectors.erp.sandbox_ledger import ErpLedger, PurchaseOrder
from connectors.payer_rest.sandbox_auth import SandboxClient, TokenIssuer
from connectors.sandbox_kit import DEFAULT_HANG_SECONDS, DEFAULT_TOKEN_TTL_SECONDS, Hold
from connectors.sandbox_server import LoopbackSandbox
from connectors.secrets import SecretRef

DEFAULT_CLIENT = SandboxClient(
    client_id="casegate", client_secret=SecretRef("env:ERP_SANDBOX_CLIENT_SECRET")
)


def _line(number: int, item: str, quantity: str, price: str) -> dict[str, Any]:
    return {"line_number": number, "item_code": item, "quantity": quantity, "unit_price": price}


def default_purchase_orders() -> list[PurchaseOrder]:
    """A knee implant order received in full, and a drug order received short."""
    return [
        PurchaseOrder(
            number="PO-1001",
            supplier_id="SUP-100",
            currency="USD",
            lines=(
                _line(1, "IMPLANT-KNEE-TKA", "2", "4500.00"),
                _line(2, "SCREW-6.5", "10", "35.50"),
            ),
            receipts=(
                {"line_number": 1, "quantity_received": "2"},
                {"line_number": 2, "quantity_received": "10"},
            ),
        ),
        PurchaseOrder(
            number="PO-1002",
            supplier_id="SUP-200",
            currency="USD",
            lines=(_line(1, "NDC-57894-0030-01", "5", "1200.00"),),
            receipts=({"line_number": 1, "quantity_received": "4"},),
        ),
    ]


class ErpSandbox(LoopbackSandbox):
    """The fake ERP; also its own `SandboxControl`, in memory."""

    def __init__(
        self,
        clients: Sequence[SandboxClient] = (DEFAULT_CLIENT,),
        purchase_orders: Sequence[PurchaseOrder] | None = None,
        *,
        port: int = 0,
        hang_seconds: float = DEFAULT_HANG_SECONDS,
    ) -> None:
        orders = list(purchase_orders if purchase_orders is not None else default_purchase_orders())
        self.ledger = ErpLedger(
            purchase_orders={order.number: order for order in orders},
            suppliers=frozenset(order.supplier_id for order in orders),
        )
        hold = Hold(hang_seconds)
        issuer = TokenIssuer(list(clients), DEFAULT_TOKEN_TTL_SECONDS)
        super().__init__(
            build_app(ErpRuntime(self.ledger, issuer, hold)), hold, self.ledger.faults, port=port
        )

    def odata_url(self) -> str:
        return f"{self.base_url}/odata/v4"

    def effects(self, key: str | None = None) -> int:
        return self.ledger.effects(key)

    def reset(self) -> None:
        self.ledger.reset()

    def gl_total(self) -> Decimal:
        return sum((Decimal(entry["amount"]) for entry in self.ledger.gl_entries), Decimal(0))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.erp.sandbox", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    ErpSandbox(port=args.port).run_announced()


if __name__ == "__main__":
    main()
