"""Posts case milestones and approved invoices to an ERP, and looks up purchase orders.

`erp.post` carries a typed document (a catalog event, or an approved invoice); the profile
turns it into one or more ERP documents. A resend must not post twice: either the ERP honours
the Idempotency-Key header, or each document carries a natural key that is searched before
posting. `erp.lookup` reads a purchase order and its receipts for the three-way match and
answers them in canonical field names.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from connectors.contract import (
    KNOWN_OPERATIONS,
    ConnectorConfig,
    ConnectorRequest,
    ConnectorResponse,
)
from connectors.erp.config import ErpConfig
from connectors.erp.documents import (
    MappingGap,
    build_document,
    document_key,
    fill,
    read_collection,
    read_record,
)
from connectors.erp.profile import DocumentRule, load_profile
from connectors.errors import PermanentError, ProtocolError
from connectors.http import HttpConnector, HttpExchange
from connectors.oauth import BearerTokenAuth, ClientCredentialsTokens

POST = "erp.post"
LOOKUP = "erp.lookup"


class ErpConnector(HttpConnector):
    name: ClassVar[str] = "erp"
    wire_format: ClassVar[str] = "erp-json"
    capabilities: ClassVar[frozenset[str]] = frozenset({POST, LOOKUP})
    Config: ClassVar[type[ConnectorConfig]] = ErpConfig

    def __init__(self, config: ErpConfig) -> None:
        self._profile = load_profile(config.profile)
        self._tokens = ClientCredentialsTokens(
            config.auth, timeout_seconds=config.timeout_seconds, verify=config.tls.ssl_context()
        )
        super().__init__(
            base_url=config.base_url,
            timeout_seconds=config.timeout_seconds,
            auth=BearerTokenAuth(self._tokens),
            tls=config.tls,
        )

    async def check(self) -> None:
        await self.exchange("GET", self._profile.status_path, None)

    async def send(self, request: ConnectorRequest) -> ConnectorResponse:
        if request.operation not in self.capabilities:
            named = request.operation if request.operation in KNOWN_OPERATIONS else "unknown"
            raise PermanentError(f"erp does not support the operation ({named})")
        if request.operation == LOOKUP:
            return await self._lookup(request)
        document_type = request.payload.get("type")
        rules = self._profile.rules_for(document_type) if isinstance(document_type, str) else []
        if not rules:
            raise PermanentError("the ERP profile maps no document for this type")
        exchanges = [await self._post(rule, request) for rule in rules]
        return ConnectorResponse(
            decision=None,
            wire_format=self.wire_format,
            wire_request=b"\n".join(e.wire_request for e in exchanges),
            wire_response=b"\n".join(e.wire_response for e in exchanges),
            payer_reference=None,
            data={"posted": [rule.document for rule in rules]},
        )

    async def _post(self, rule: DocumentRule, request: ConnectorRequest) -> HttpExchange:
        try:
            document = build_document(rule, request)
        except MappingGap as gap:
            raise PermanentError(f"the posted document has no value at {gap}") from None
        # Each ERP document gets its own key: one Idempotency-Key over several documents would
        # look to the ERP like a key reused with another body.
        scoped = dataclasses.replace(request, idempotency_key=document_key(request, rule))
        if rule.search_path is not None and self._profile.idempotency == "natural_key":
            found = await self.exchange("GET", fill(rule.search_path, document), scoped)
            if _listed(found):
                return found
        body = json.dumps(document, separators=(",", ":")).encode()
        posted = await self.exchange(rule.method, fill(rule.path, document), scoped, body)
        answer = posted.json()
        if not isinstance(answer, Mapping) or not answer.get(self._profile.document_id):
            raise ProtocolError(
                "the ERP's answer to a posting is not a document",
                wire_request=posted.wire_request,
                wire_response=posted.wire_response,
            )
        return posted

    async def _lookup(self, request: ConnectorRequest) -> ConnectorResponse:
        number = request.payload.get("purchase_order_number")
        if not isinstance(number, str) or not number:
            raise PermanentError("erp.lookup needs purchase_order_number")
        lookups = self._profile.lookups
        values = {"purchase_order_number": number}
        order = await self.exchange("GET", fill(lookups.purchase_order.path, values), request)
        receipts = await self.exchange("GET", fill(lookups.receipts.path, values), request)
        try:
            order_record = order.json()
            if not isinstance(order_record, Mapping):
                raise MappingGap("(the purchase order)")
            data: dict[str, Any] = {
                "purchase_order": read_record(lookups.purchase_order, order_record),
                "receipts": read_collection(lookups.receipts, receipts.json()),
            }
        except MappingGap as gap:
            raise ProtocolError(
                f"the ERP's record has no {gap}",
                wire_request=order.wire_request + b"\n" + receipts.wire_request,
                wire_response=order.wire_response + b"\n" + receipts.wire_response,
            ) from None
        return ConnectorResponse(
            decision=None,
            wire_format=self.wire_format,
            wire_request=order.wire_request + b"\n" + receipts.wire_request,
            wire_response=order.wire_response + b"\n" + receipts.wire_response,
            payer_reference=None,
            data=data,
        )

    async def aclose(self) -> None:
        await super().aclose()
        await self._tokens.aclose()


def _listed(found: HttpExchange) -> bool:
    """Whether a natural-key search found the document (an OData `value` list or a list)."""
    answer = found.json()
    items = answer.get("value") if isinstance(answer, Mapping) else answer
    if not isinstance(items, list):
        raise ProtocolError(
            "the ERP's answer to a search is not a list",
            wire_request=found.wire_request,
            wire_response=found.wire_response,
        )
    return len(items) > 0
