"""A fake ERP for tests and the demo: requisitions, purchase orders, receipts, invoices and GL
entries behind an OData v4 service and a REST API, with its own OAuth2 token endpoint,
validation as a real ERP does it, fault injection and an effect log.

    python -m connectors.erp.sandbox --port 0

Without arguments it knows one client, `casegate`, whose secret it reads from the environment
variable ERP_SANDBOX_CLIENT_SECRET, and the purchase orders of `default_purchase_orders()`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Self

from connectors.erp.sandbox_app import ErpRuntime, build_app
from connectors.erp.sandbox_ledger import ErpLedger, PurchaseOrder
from connectors.loopback import LoopbackServer
from connectors.payer_rest.sandbox_auth import SandboxClient, TokenIssuer
from connectors.sandbox import Fault
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


class ErpSandbox:
    """The fake ERP; also its own `SandboxControl`, in memory."""

    def __init__(
        self,
        clients: Sequence[SandboxClient] = (DEFAULT_CLIENT,),
        purchase_orders: Sequence[PurchaseOrder] | None = None,
        *,
        port: int = 0,
        hang_seconds: float = 30.0,
    ) -> None:
        orders = list(purchase_orders if purchase_orders is not None else default_purchase_orders())
        self.ledger = ErpLedger(
            purchase_orders={order.number: order for order in orders},
            suppliers=frozenset(order.supplier_id for order in orders),
        )
        self._runtime = ErpRuntime(self.ledger, TokenIssuer(list(clients), 300.0), hang_seconds)
        self._server = LoopbackServer(
            build_app(self._runtime), port=port, on_stop=self._runtime.released.set
        )

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def odata_url(self) -> str:
        return f"{self.base_url}/odata/v4"

    def start(self) -> str:
        self._runtime.released.clear()
        return self._server.start()

    def bind(self) -> str:
        return self._server.bind()

    def run(self) -> None:
        """Serve in this (main) thread until interrupted."""
        self._server.run()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, fault: Fault, count: int = 1, *, retry_after: int = 1) -> None:
        self.ledger.inject(fault, count, retry_after)

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
    sandbox = ErpSandbox(port=args.port)
    base_url = sandbox.bind()
    sys.stdout.write(json.dumps({"base_url": base_url}) + "\n")
    sys.stdout.flush()
    sandbox.run()


if __name__ == "__main__":
    main()
