"""The ERP sandbox's HTTP faces: an OData v4 service and a plain REST API over one ledger,
its token endpoint, and `/_sandbox/*` controls.

The OData face has no idempotency header, as many ERP services do not: posting the same
ExternalId twice creates a second document, which the effect log shows as a duplicate effect,
so a connector that forgets to search before posting fails its tests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath

from connectors.erp.sandbox_ledger import ErpLedger, Rejected
from connectors.payer_rest.sandbox_auth import TokenIssuer
from connectors.sandbox import Fault
from connectors.sandbox_kit import API, Hold, echo, misbehave
from connectors.sandbox_server import Controls, control_handlers, json_response, token_handler

ODATA = "/odata/v4"
_ODATA_SETS = {
    "RequisitionCheckpoints": "requisition_checkpoints",
    "ScheduleUpdates": "schedule_updates",
    "ExpectedReimbursements": "expected_reimbursements",
    "SupplierInvoices": "ap_invoices",
}
_REST_PATHS = {
    "requisition-checkpoints": "requisition_checkpoints",
    "schedule-updates": "schedule_updates",
    "expected-reimbursements": "expected_reimbursements",
    "ap-invoices": "ap_invoices",
}
_ENTITY = re.compile(r"^PurchaseOrders\('((?:[^']|'')*)'\)$")
_FILTER = re.compile(r"^(\w+) eq '((?:[^']|'')*)'$")
_UPPER = re.compile(r"(?<!^)(?=[A-Z])")


def pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def snake(name: str) -> str:
    return _UPPER.sub("_", name).lower()


def _converted(value: Any, rename: Any) -> Any:
    if isinstance(value, dict):
        return {rename(k): _converted(v, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [_converted(v, rename) for v in value]
    return value


@dataclass
class ErpRuntime:
    ledger: ErpLedger
    issuer: TokenIssuer
    hold: Hold
    odata_serial: int = 0


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Response[bytes]:
    return json_response(status, body, headers)


def _odata_error(
    status: int, code: str, message: str, target: str | None = None
) -> Response[bytes]:
    error: dict[str, str] = {"code": code, "message": message}
    if target is not None:
        error["target"] = target
    return _json(status, {"error": error})


class _ErpFaults:
    """The faults as an ERP's OData service shows them."""

    def unavailable(self) -> Response[bytes]:
        return _odata_error(503, "Unavailable", "service unavailable")

    def rate_limited(self, retry_after: int) -> Response[bytes]:
        return _json(429, {"error": {"code": "TooManyRequests"}}, {"Retry-After": str(retry_after)})

    def bad_request(self, body: bytes) -> Response[bytes]:
        return _odata_error(400, "BadRequest", f"cannot process: {echo(body)}")

    def unauthorized(self) -> Response[bytes]:
        return _json(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})

    def malformed(self, body: bytes) -> Response[bytes]:
        return Response(b'{"Id": "' + body[:200], status_code=200, media_type="application/json")

    def off_contract(self, body: bytes) -> Response[bytes]:
        return _json(200, {"status": "MAYBE", "echo": echo(body)})


FAULTS = _ErpFaults()


async def _guarded(
    runtime: ErpRuntime, request: Request[Any, Any, Any], body: bytes
) -> Response[bytes] | None:
    """A queued fault or a refused token answers instead of the route. A lost response acts
    first: it is left on the request for `_acted` to apply once the route has acted."""
    queued = runtime.ledger.faults.take()
    if queued is not None and queued.fault is not Fault.lost_response:
        return await misbehave(FAULTS, runtime.hold, queued, body)
    if not runtime.issuer.is_valid(request.headers.get("authorization")):
        return FAULTS.unauthorized()
    if queued is not None:
        request.state.lost = queued
    return None


async def _acted(
    runtime: ErpRuntime, request: Request[Any, Any, Any], answer: Response[bytes]
) -> Response[bytes]:
    lost = getattr(request.state, "lost", None)
    if lost is not None:
        return await misbehave(FAULTS, runtime.hold, lost, b"")
    return answer


def build_app(runtime: ErpRuntime) -> Litestar:
    return Litestar(
        route_handlers=[
            *_odata_handlers(runtime),
            *_rest_handlers(runtime),
            *_control_handlers(runtime),
        ],
        openapi_config=None,
        logging_config=None,
        debug=False,
    )


def _odata_handlers(runtime: ErpRuntime) -> list[Any]:
    ledger = runtime.ledger

    @get(f"{ODATA}/{{resource:str}}")
    async def odata_read(
        request: Request[Any, Any, Any], resource: FromPath[str]
    ) -> Response[bytes]:
        refused = await _guarded(runtime, request, b"")
        if refused is not None:
            return refused
        answer = _odata_read(ledger, unquote(resource), request.query_params)
        return await _acted(runtime, request, answer)

    @post(f"{ODATA}/{{entity_set:str}}", status_code=201)
    async def odata_post(
        request: Request[Any, Any, Any], entity_set: FromPath[str]
    ) -> Response[bytes]:
        body = await request.body()
        refused = await _guarded(runtime, request, body)
        if refused is not None:
            return refused
        collection = _ODATA_SETS.get(entity_set)
        if collection is None:
            return _odata_error(404, "NotFound", "no such entity set")
        try:
            document = _converted(json.loads(body), snake)
            if not isinstance(document, dict):
                return _odata_error(400, "BadRequest", "the body must be an entity")
            runtime.odata_serial += 1
            key = str(document.get("external_id") or f"anonymous-{runtime.odata_serial}")
            if ledger.find(collection, key):
                key = f"{key}/again-{runtime.odata_serial}"  # no idempotency here: a 2nd document
            stored = ledger.post(collection, key, document)
        except ValueError:
            return _odata_error(400, "BadRequest", "the body is not JSON")
        except Rejected as rejected:
            return _odata_error(400, "ValidationFailed", rejected.message, pascal(rejected.target))
        entity = {"@odata.context": f"$metadata#{entity_set}/$entity", **_converted(stored, pascal)}
        return await _acted(runtime, request, _json(201, entity))

    return [odata_read, odata_post]


def _rest_handlers(runtime: ErpRuntime) -> list[Any]:
    ledger = runtime.ledger

    @get("/api/status")
    async def rest_status(request: Request[Any, Any, Any]) -> Response[bytes]:
        refused = await _guarded(runtime, request, b"")
        return refused or _json(200, {"status": "ok"})

    @get("/api/purchase-orders/{number:str}")
    async def rest_order(request: Request[Any, Any, Any], number: FromPath[str]) -> Response[bytes]:
        refused = await _guarded(runtime, request, b"")
        if refused is not None:
            return refused
        order = ledger.purchase_orders.get(number)
        if order is None:
            return _json(404, {"errors": [{"field": "number", "message": "not found"}]})
        record = {
            "number": order.number,
            "supplier_id": order.supplier_id,
            "currency": order.currency,
            "lines": list(order.lines),
        }
        return await _acted(runtime, request, _json(200, record))

    @get("/api/purchase-orders/{number:str}/receipts")
    async def rest_receipts(
        request: Request[Any, Any, Any], number: FromPath[str]
    ) -> Response[bytes]:
        refused = await _guarded(runtime, request, b"")
        if refused is not None:
            return refused
        order = ledger.purchase_orders.get(number)
        receipts = list(order.receipts) if order is not None else []
        return await _acted(runtime, request, _json(200, {"receipts": receipts}))

    @post("/api/{resource:str}", status_code=201)
    async def rest_post(
        request: Request[Any, Any, Any], resource: FromPath[str]
    ) -> Response[bytes]:
        body = await request.body()
        refused = await _guarded(runtime, request, body)
        if refused is not None:
            return refused
        collection = _REST_PATHS.get(resource)
        if collection is None:
            return _json(404, {"errors": [{"field": "path", "message": "no such resource"}]})
        key = request.headers.get("idempotency-key")
        if not key:
            return _json(400, {"errors": [{"field": "Idempotency-Key", "message": "required"}]})
        try:
            document = json.loads(body)
            if not isinstance(document, dict):
                raise ValueError
            stored = ledger.post(collection, key, document)
        except ValueError:
            return _json(400, {"errors": [{"field": "body", "message": "must be a JSON object"}]})
        except Rejected as rejected:
            return _json(422, {"errors": [{"field": rejected.target, "message": rejected.message}]})
        return await _acted(runtime, request, _json(201, stored))

    return [rest_status, rest_order, rest_receipts, rest_post]


def _control_handlers(runtime: ErpRuntime) -> list[Any]:
    ledger, issuer = runtime.ledger, runtime.issuer

    token = token_handler("/oauth/token", issuer.issue)
    controls = Controls(
        report=lambda key: {"effects": ledger.effects(key)},
        faults=ledger.faults,
        reset=ledger.reset,
        refuse=lambda _: _json(
            400, {"errors": [{"field": "body", "message": "not a fault order"}]}
        ),
        targets=frozenset({API}),
    )
    return [token, *control_handlers(controls)]


def _odata_read(ledger: ErpLedger, resource: str, query: Any) -> Response[bytes]:
    if resource == "$metadata":
        return Response(
            b'<edmx:Edmx Version="4.0"/>', status_code=200, media_type="application/xml"
        )
    entity = _ENTITY.match(resource)
    if entity is not None:
        order = ledger.purchase_orders.get(entity.group(1).replace("''", "'"))
        if order is None:
            return _odata_error(404, "NotFound", "no such purchase order")
        record = {
            "purchase_order": order.number,
            "supplier_id": order.supplier_id,
            "currency": order.currency,
            "lines": list(order.lines),
        }
        return _json(
            200,
            {"@odata.context": "$metadata#PurchaseOrders/$entity", **_converted(record, pascal)},
        )
    matched = _FILTER.match(query.get("$filter", ""))
    if matched is None:
        return _odata_error(
            400, "BadRequest", "a $filter of the form `Field eq 'value'` is required"
        )
    name, value = snake(matched.group(1)), matched.group(2).replace("''", "'")
    if resource == "Receipts" and name == "purchase_order":
        order = ledger.purchase_orders.get(value)
        rows = [dict(r, purchase_order=value) for r in (order.receipts if order else ())]
    elif resource in _ODATA_SETS and name == "external_id":
        rows = ledger.find(_ODATA_SETS[resource], value)
    else:
        return _odata_error(400, "BadRequest", "this $filter is not supported")
    return _json(
        200, {"@odata.context": f"$metadata#{resource}", "value": _converted(rows, pascal)}
    )
