"""The payer sandbox's HTTP routes: the payer's API, its token endpoint and `/_sandbox/*`.

Handlers stay lean (no per-request validation models, one lock held for microseconds) so a
load test of the gateway measures the gateway, not the fake payer.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.payer_rest.sandbox_auth import TokenIssuer, TokenRefused
from connectors.payer_rest.sandbox_ledger import IdempotencyConflict, PayerLedger
from connectors.payer_rest.sandbox_rules import SubmissionError
from connectors.sandbox import Fault

SUBMIT_PATH = "/v1/prior-auth-requests"
ECHO_LIMIT = 2000


class FaultOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fault: Fault
    count: int = Field(default=1, ge=1, le=1_000_000)
    target: str = Field(default="api", pattern="^(api|token)$")
    retry_after: int = Field(default=1, ge=0, le=3600)


@dataclass
class SandboxRuntime:
    ledger: PayerLedger
    issuer: TokenIssuer
    hang_seconds: float
    released: threading.Event = field(default_factory=threading.Event)

    async def hang(self) -> None:
        """Hold the request past any client timeout, but let go at once when stopping."""
        deadline = time.monotonic() + self.hang_seconds
        # Polled: `released` is set from another thread (the one stopping the sandbox).
        while time.monotonic() < deadline and not self.released.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        json.dumps(body).encode(),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _error(status: int, code: str, message: str | None = None) -> Response[bytes]:
    detail = {"code": code} if message is None else {"code": code, "message": message}
    return _json(status, {"error": detail})


async def _misbehave(
    runtime: SandboxRuntime, fault: Fault, retry_after: int, body: bytes
) -> Response[bytes]:
    # bad_request and the 200 faults echo the request, as careless real payers do, so a
    # connector that copies response bodies into its errors is caught leaking PHI.
    echo = body[:ECHO_LIMIT].decode("utf-8", errors="replace")
    if fault in (Fault.timeout, Fault.lost_response):
        await runtime.hang()
        return _error(503, "unavailable")
    if fault is Fault.rate_limited:
        return _json(429, {"error": {"code": "rate_limited"}}, {"Retry-After": str(retry_after)})
    if fault is Fault.unavailable:
        return _error(503, "unavailable")
    if fault is Fault.bad_request:
        return _error(400, "invalid_request", f"rejected request: {echo}")
    if fault is Fault.unauthorized:
        return _json(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})
    if fault is Fault.malformed:
        return Response(
            b'{"status": "APPROVED", "echo": "' + body[:200],
            status_code=200,
            media_type="application/json",
        )
    return _json(200, {"status": "MAYBE", "echo": echo})


def build_app(runtime: SandboxRuntime) -> Litestar:
    ledger, issuer = runtime.ledger, runtime.issuer

    def authorized(request: Request[Any, Any, Any]) -> bool:
        return issuer.is_valid(request.headers.get("authorization"))

    def unauthorized() -> Response[bytes]:
        return _json(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})

    @post("/oauth/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        queued = ledger.take_fault("token")
        if queued is not None:
            return await _misbehave(runtime, queued.fault, queued.retry_after, body)
        form = dict(parse_qsl(body.decode("utf-8", errors="replace")))
        token_url = f"{request.url.scheme}://{request.url.netloc}/oauth/token"
        try:
            answer = issuer.issue(form, request.headers.get("authorization"), token_url)
        except TokenRefused as refused:
            return _json(refused.status, {"error": refused.error})
        return Response(
            answer,
            status_code=200,
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    @get("/v1/status")
    async def status(request: Request[Any, Any, Any]) -> Response[bytes]:
        return _json(200, {"status": "ok"}) if authorized(request) else unauthorized()

    @post(SUBMIT_PATH, status_code=200)
    async def submit(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        queued = ledger.take_fault("api")
        if queued is not None and queued.fault is not Fault.lost_response:
            return await _misbehave(runtime, queued.fault, queued.retry_after, body)
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
            return await _misbehave(runtime, queued.fault, queued.retry_after, body)
        return Response(answer, status_code=200, media_type="application/json")

    @get(SUBMIT_PATH + "/{reference:str}")
    async def inquire(request: Request[Any, Any, Any], reference: FromPath[str]) -> Response[bytes]:
        queued = ledger.take_fault("api")
        if queued is not None:
            return await _misbehave(runtime, queued.fault, queued.retry_after, b"")
        if not authorized(request):
            return unauthorized()
        answer = ledger.inquire(reference)
        if answer is None:
            return _error(404, "not_found")
        return Response(answer, status_code=200, media_type="application/json")

    @get("/_sandbox/effects")
    async def effects(key: FromQuery[str | None] = None) -> Response[bytes]:
        if key is not None:
            return _json(200, ledger.effects_of(key))
        return _json(200, ledger.report(issuer.issued))

    @post("/_sandbox/faults", status_code=200)
    async def faults(request: Request[Any, Any, Any]) -> Response[bytes]:
        try:
            order = FaultOrder.model_validate_json(await request.body())
        except ValidationError as exc:
            fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
            return _error(400, "invalid_fault", f"check: {fields or 'the body'}")
        ledger.inject(order.fault, order.count, order.target, order.retry_after)
        return Response(b"", status_code=204)

    @post("/_sandbox/reset", status_code=200)
    async def reset() -> Response[bytes]:
        ledger.reset()
        issuer.reset_count()
        return Response(b"", status_code=204)

    return Litestar(
        route_handlers=[token, status, submit, inquire, effects, faults, reset],
        openapi_config=None,
        logging_config=None,
        debug=False,
    )
