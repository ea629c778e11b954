"""ISA13s for the clearinghouse connector from the store's per-partner counters.

The connector asks for the number of a request by its idempotency key; the number is drawn from
the persisted counter once and remembered for this process's life, so a quick resend keeps its
ISA13. A resend after a restart draws a new one; the clearinghouse still knows the payload by
its CORE payload id or batch file name.
"""

from __future__ import annotations

import structlog

from connectors.registry import ConnectorConfigError, InvalidConnectorError, UnknownConnectorError
from connectors.x12_clearinghouse.connector import X12ClearinghouseConnector
from connectors.x12_clearinghouse.control_numbers import RememberedControlNumbers
from gateway.runtime import Runtime
from gateway.store.control_numbers import EnvelopeLevel, next_control_number
from gateway.store.engine import Store

_log = structlog.get_logger("casegate.x12")
CONNECTOR_KIND = "x12_clearinghouse"


class StoreControlNumbers(RememberedControlNumbers):
    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store

    async def _draw(self, partner: str) -> int:
        async with self._store.begin() as conn:
            return await next_control_number(conn, partner, EnvelopeLevel.interchange)


async def attach_control_numbers(runtime: Runtime) -> None:
    """Give every clearinghouse connector instance the persisted counters.

    An instance whose configuration is bad is left alone here: its sends dead-letter with the
    configuration problem, which is where an operator looks for it.
    """
    source = StoreControlNumbers(runtime.store)
    for name, instance in runtime.settings.connectors.items():
        if instance.kind != CONNECTOR_KIND:
            continue
        try:
            connector = await runtime.connectors.get(name)
        except (ConnectorConfigError, InvalidConnectorError, UnknownConnectorError) as exc:
            _log.warning("x12_connector_unusable", connector=name, error_type=type(exc).__name__)
            continue
        if isinstance(connector, X12ClearinghouseConnector):
            connector.use_control_numbers(source)
