"""The payer sandbox's HTTP routes: the payer's API, its token endpoint and `/_sandbox/*`.

Handlers stay lean (no per-request validation models, one lock held for microseconds) so a
load test of the gateway measures the gateway, not the fake payer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath

from connectors.payer_rest.sandbox_auth import TokenIssuer
from connectors.payer_rest.sandbox_ledger import PayerLedger
from connectors.payer_rest.sandbox_rules import SubmissionError
from connectors.sandbox import Fault
from connectors.sandbox_kit import Hold, IdempotencyConflict, echo, misbehave
from connectors.sandbox_server import TokenFaults, json_response, payer_controls, token_handler

SUBMIT_PATH = "/v1/prior-auth-requests"


@dataclass
class SandboxRuntime:
    ledger: PayerLedger
    issuer: TokenIssuer
    hold: Hold


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Response[bytes]:
    return json_response(status, body, headers)


def _error(status: int, code: str, message: str | None = None) -> Response[bytes]:
    detail = {"code": code} if message is None else {"code": code, "message": message}
    return _json(status, {"error": detail})


class _RestFaults:
    """The faults as a JSON REST payer shows them."""

    def unavailable(self) -> Response[bytes]:
        return _error(503, "unavailable")

    def rate_limited(self, retry_after: int) -> Response[bytes]:
        return _json(429, {"error": {"code": "rate_limited"}}, {"Retry-After": str(retry_after)})

    def bad_request(self, body: bytes) -> Response[bytes]:
        return _error(400, "invalid_request", f"rejected request: {echo(body)}")

    def unauthorized(self) -> Response[bytes]:
        return _json(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})

    def malformed(self, body: bytes) -> Response[bytes]:
        return Response(
            b'{"status": "APPROVED", "echo": "' + body[:200],
            status_code=200,
            media_type="application/json",
        )

    def off_contract(self, body: bytes) -> Response[bytes]:
        return _json(200, {"status": "MAYBE", "echo": echo(body)})


FAULTS = _RestFaults()


def _refuse_order(fields: str) -> Response[bytes]:
    return _error(400, "invalid_fault", f"check: {fields}")


def build_app(runtime: SandboxRuntime) -> Litestar:
    ledger, issuer, hold = runtime.ledger, runtime.issuer, runtime.hold

    def authorized(request: Request[Any, Any, Any]) -> bool:
        return issuer.is_valid(request.headers.get("authorization"))

    def unauthorized() -> Response[bytes]:
        return _json(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})

    token = token_handler("/oauth/token", issuer.issue, TokenFaults(ledger.faults, FAULTS, hold))

    @get("/v1/status")
    async def status(request: Request[Any, Any, Any]) -> Response[bytes]:
        return _json(200, {"status": "ok"}) if authorized(request) else unauthorized()

    @post(SUBMIT_PATH, status_code=200)
    async def submit(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        queued = ledger.faults.take()
        if queued is not None and queued.fault is not Fault.lost_response:
            return await misbehave(FAULTS, hold, queued, body)
        if not authorized(request):
            return unauthorized()
        key = request.headers.get("idempotency-key")
        if not key:
            return _error(400, "missing_idempotency_key")
        try:
            answer = ledger.submit(key, body)
        except SubmissionError as exc:
            return _error(400, "invalid_request", str(exc))
        except IdempotencyConflict:
            return _error(422, "idempotency_key_reused")
        if queued is not None:
            return await misbehave(FAULTS, hold, queued, body)
        return Response(answer, status_code=200, media_type="application/json")

    @get(SUBMIT_PATH + "/{reference:str}")
    async def inquire(request: Request[Any, Any, Any], reference: FromPath[str]) -> Response[bytes]:
        queued = ledger.faults.take()
        if queued is not None:
            return await misbehave(FAULTS, hold, queued, b"")
        if not authorized(request):
            return unauthorized()
        answer = ledger.inquire(reference)
        if answer is None:
            return _error(404, "not_found")
        return Response(answer, status_code=200, media_type="application/json")

    return Litestar(
        route_handlers=[
            token,
            status,
            submit,
            inquire,
            *payer_controls(ledger, issuer, _refuse_order),
        ],
        openapi_config=None,
        logging_config=None,
        debug=False,
    )
