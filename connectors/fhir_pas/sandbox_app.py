"""The PAS sandbox's HTTP routes: `$submit`, `$inquire`, eligibility, `metadata`, `Subscription`,
the SMART token endpoint and `/_sandbox/*`; and the rest-hook deliveries it makes.

Decisions that come due later (a pend decided after N seconds) are taken by a task on the
server's own loop, which then notifies every subscription with the full PAS response bundle.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from litestar import Litestar, Request, Response, get, post

from connectors.fhir_pas.sandbox_auth import JwksTokenIssuer
from connectors.fhir_pas.sandbox_payer import (
    PasCase,
    PasPayer,
    SubmissionRefused,
)
from connectors.sandbox import Fault
from connectors.sandbox_kit import Hold, IdempotencyConflict, echo, misbehave
from connectors.sandbox_server import TokenFaults, json_response, payer_controls, token_handler
from mappings.fhir_pas import PasMappingError
from mappings.fhir_pas.subscriptions import read_subscription

FHIR_JSON = "application/fhir+json"
NOTIFY_TIMEOUT_SECONDS = 5.0


@dataclass
class SandboxRuntime:
    payer: PasPayer
    issuer: JwksTokenIssuer
    hold: Hold
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def later(self, case: PasCase) -> None:
        """Decide `case` once its rule's delay has passed, then notify."""
        delay = case.rule.decide_after_seconds or 0.0
        task = asyncio.create_task(self._decide_after(case.case_id, delay))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def notify(self, case: PasCase) -> None:
        for note in self.payer.notifications_for(case):
            headers = {"Content-Type": FHIR_JSON, **note.headers}
            try:
                async with httpx.AsyncClient(timeout=NOTIFY_TIMEOUT_SECONDS) as client:
                    await client.post(note.endpoint, content=note.body, headers=headers)
            except httpx.HTTPError:
                # A subscriber that is down misses the event: what $inquire is there for.
                continue

    async def _decide_after(self, case_id: str, delay: float) -> None:
        await self.hold.hang(delay)
        decided = self.payer.decide_if_due(case_id)
        if decided is not None and not self.hold.released.is_set():
            await self.notify(decided)


def _fhir(status: int, body: object, headers: dict[str, str] | None = None) -> Response[bytes]:
    return json_response(status, body, headers, FHIR_JSON)


def _unauthorized() -> Response[bytes]:
    return _fhir(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})


def _outcome(
    status: int, code: str, diagnostics: str, expression: str | None = None
) -> Response[bytes]:
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if expression is not None:
        issue["expression"] = [expression]
    return _fhir(status, {"resourceType": "OperationOutcome", "issue": [issue]})


class _FhirFaults:
    """The faults as a FHIR server shows them: bare statuses, or an OperationOutcome."""

    def unavailable(self) -> Response[bytes]:
        return Response(b"", status_code=503)

    def rate_limited(self, retry_after: int) -> Response[bytes]:
        return Response(b"", status_code=429, headers={"Retry-After": str(retry_after)})

    def bad_request(self, body: bytes) -> Response[bytes]:
        return _outcome(400, "invalid", f"rejected request: {echo(body)}", "Bundle")

    def unauthorized(self) -> Response[bytes]:
        return _unauthorized()

    def malformed(self, body: bytes) -> Response[bytes]:
        return Response(b'{"resourceType": "Bundle", "echo": "' + body[:200], status_code=200)

    def off_contract(self, body: bytes) -> Response[bytes]:
        return _fhir(200, {"resourceType": "Basic", "echo": echo(body)})


FAULTS = _FhirFaults()


def _refuse_order(fields: str) -> Response[bytes]:
    return _outcome(400, "invalid", f"check: {fields}")


def capability_statement(base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-23",
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "implementation": {"description": "PAS sandbox payer", "url": base_url},
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://hl7.org/fhir/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ]
                },
                "resource": [
                    {
                        "type": "Claim",
                        "operation": [
                            {
                                "name": "submit",
                                "definition": "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-submit",
                            },
                            {
                                "name": "inquire",
                                "definition": "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-inquiry",
                            },
                        ],
                    },
                    {"type": "Subscription", "interaction": [{"code": "create"}]},
                    {"type": "CoverageEligibilityRequest"},
                ],
            }
        ],
    }


def build_app(runtime: SandboxRuntime) -> Litestar:
    payer, issuer = runtime.payer, runtime.issuer

    def authorized(request: Request[Any, Any, Any]) -> bool:
        return issuer.is_valid(request.headers.get("authorization"))

    async def gate(
        request: Request[Any, Any, Any], body: bytes
    ) -> tuple[Response[bytes] | None, bool]:
        """A queued fault's answer (or 401) before the request is looked at; and whether the
        answer is to be lost after acting on the request."""
        queued = payer.faults.take()
        lost = queued is not None and queued.fault is Fault.lost_response
        if queued is not None and not lost:
            return await misbehave(FAULTS, runtime.hold, queued, body), False
        return (None if authorized(request) else _unauthorized()), lost

    async def answered(answer: bytes, lost: bool) -> Response[bytes]:
        if lost:
            await runtime.hold.hang()
            return FAULTS.unavailable()
        return Response(answer, status_code=200, media_type=FHIR_JSON)

    @post("/Claim/$submit", status_code=200)
    async def submit(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        refused, lost = await gate(request, body)
        if refused is not None:
            return refused
        key = request.headers.get("idempotency-key")
        if not key:
            return _outcome(400, "required", "the Idempotency-Key header is required")
        try:
            answer, pended = payer.submit(key, _json(body))
        except SubmissionRefused as exc:
            return _fhir(400, exc.outcome)
        except IdempotencyConflict:
            return _outcome(422, "conflict", "the Idempotency-Key was used for another request")
        if pended is not None:
            runtime.later(pended)
        return await answered(answer, lost)

    @post("/Claim/$inquire", status_code=200)
    async def inquire(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        refused, lost = await gate(request, body)
        if refused is not None:
            return refused
        try:
            answer, decided = payer.inquire(_json(body))
        except SubmissionRefused as exc:
            return _fhir(400, exc.outcome)
        if decided is not None:
            await runtime.notify(decided)
        return await answered(answer, lost)

    @post("/CoverageEligibilityRequest/$submit", status_code=200)
    async def eligibility(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        refused, lost = await gate(request, body)
        if refused is not None:
            return refused
        key = request.headers.get("idempotency-key")
        if not key:
            return _outcome(400, "required", "the Idempotency-Key header is required")
        try:
            answer = payer.check_eligibility(key, _json(body))
        except SubmissionRefused as exc:
            return _fhir(400, exc.outcome)
        except PasMappingError as exc:
            return _fhir(400, exc.operation_outcome())
        return await answered(answer, lost)

    return Litestar(
        route_handlers=[
            *_public_handlers(runtime),
            submit,
            inquire,
            eligibility,
            _subscription_handler(runtime),
            *payer_controls(payer, issuer, _refuse_order, FHIR_JSON),
        ],
        openapi_config=None,
        logging_config=None,
        debug=False,
    )


def _subscription_handler(runtime: SandboxRuntime) -> Any:
    """`POST /Subscription`: rest-hook subscriptions to the PAS topic."""
    payer, issuer = runtime.payer, runtime.issuer

    @post("/Subscription", status_code=201)
    async def subscription(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        if not issuer.is_valid(request.headers.get("authorization")):
            return _unauthorized()
        try:
            document = _json(body)
            endpoint, headers = read_subscription(document)
        except SubmissionRefused as exc:
            return _fhir(400, exc.outcome)
        except PasMappingError as exc:
            return _fhir(400, exc.operation_outcome())
        assert isinstance(document, dict)
        created = payer.subscribe(endpoint, headers)
        resource = document | {"id": created.id, "status": "active"}
        return _fhir(201, resource)

    return subscription


def _public_handlers(runtime: SandboxRuntime) -> list[Any]:
    """The token endpoint and the CapabilityStatement: reached without a bearer token."""
    payer, issuer = runtime.payer, runtime.issuer

    token = token_handler(
        "/auth/token", issuer.issue_for, TokenFaults(payer.faults, FAULTS, runtime.hold)
    )

    @get("/metadata")
    async def metadata(request: Request[Any, Any, Any]) -> Response[bytes]:
        base = f"{request.url.scheme}://{request.url.netloc}"
        return _fhir(200, capability_statement(base))

    return [token, metadata]


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SubmissionRefused(
            {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "error",
                        "code": "structure",
                        "diagnostics": "the body is not JSON (PAS takes JSON only)",
                        "expression": ["Bundle"],
                    }
                ],
            }
        ) from None
