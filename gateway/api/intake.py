"""Case intake over the canonical JSON API: one route per case type, one code path for all.

The handler reads the raw body itself (rather than letting the framework bind it) because the raw
bytes are what the idempotency fingerprint covers and what the message store keeps, including
for bodies that fail validation.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter
from pydantic import ValidationError

from canonical.cases import PAYLOAD_MODELS, CaseType
from gateway.api.views import Accepted
from gateway.auth.guards import principal_of, require_scopes
from gateway.intake import Caller, accepted_case, canonical_format, rejected_input
from gateway.metrics import GatewayMetrics
from gateway.problems import PROBLEM_JSON, Problem
from gateway.runtime import runtime_of
from gateway.telemetry import (
    CASE_ID,
    CASE_TYPE,
    OUTCOME,
    PAYER_ID,
    current_carrier,
    current_trace_id,
    traced,
)

INTAKE_PATHS: dict[CaseType, str] = {
    CaseType.prior_authorization: "/v1/prior-authorizations",
    CaseType.eligibility_check: "/v1/eligibility-checks",
    CaseType.claim_status: "/v1/claim-status-inquiries",
    CaseType.denial_appeal: "/v1/denial-appeals",
    CaseType.invoice_exception: "/v1/invoice-exceptions",
}

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Required. The same key with the same body returns the stored answer.",
    ),
]


class _IntakeRoute(HTTPRouteHandler):
    """A POST route whose guards are handed the route itself.

    Litestar hands every guard a fresh copy of the route handler, on every request, in case a
    guard changes it; ours only read the connection, and the copy was a few percent of a case's
    whole cost on the busiest route.
    """

    async def authorize_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        for guard in self.resolve_guards():
            pending = guard(connection, self)
            if pending is not None:
                await pending


def caller_of(request: Request[Any, Any, Any]) -> Caller:
    principal = principal_of(request)
    return Caller(
        client_id=principal.client_id,
        tenant=principal.tenant,
        token_jti=principal.jti,
        source_address=request.client.host if request.client else None,
    )


def _intake_handler(case_type: CaseType, path: str) -> HTTPRouteHandler:
    model = PAYLOAD_MODELS[case_type]

    async def submit(
        request: Request[Any, Any, Any], idempotency_key: IdempotencyKey
    ) -> Response[bytes]:
        runtime = runtime_of(request)
        metrics: GatewayMetrics = request.app.state["metrics"]
        caller = caller_of(request)
        raw = await request.body()
        # A Problem is the caller's error, not a failure of the span.
        with traced("case.intake", expected=(Problem,)) as span:
            span.set_attribute(CASE_TYPE, case_type.value)
            try:
                payload = model.model_validate_json(raw, strict=True)
            except ValidationError as exc:
                span.set_attribute(OUTCOME, "rejected")
                metrics.intake(case_type.value, "rejected")
                problem = Problem.from_validation(exc)
                await runtime.committer.submit(
                    rejected_input(
                        raw=raw,
                        wire_format=canonical_format(case_type),
                        caller=caller,
                        error=problem.summary(),
                        trace_id=current_trace_id(),
                    )
                )
                raise problem from None
            record = accepted_case(
                case_type=case_type,
                payload=payload,
                raw=raw,
                wire_format=canonical_format(case_type),
                caller=caller,
                idempotency_key=idempotency_key,
                hasher=runtime.hasher,
                trace_context=current_carrier(),
                trace_id=current_trace_id(),
                policies=runtime.policies.book,
            )
            outcome = await runtime.committer.submit(record)
            span.set_attribute(OUTCOME, outcome.kind)
            if record.case is not None:
                span.set_attribute(PAYER_ID, record.case.payer_id)
                if outcome.kind == "accepted":
                    span.set_attribute(CASE_ID, record.case.id)
        metrics.intake(case_type.value, outcome.kind)
        if outcome.kind == "mismatch":
            raise Problem(
                422,
                "Idempotency key reused",
                "this Idempotency-Key was used with a different request body",
                "idempotency-mismatch",
            )
        if outcome.kind == "in_flight":
            raise Problem(
                409,
                "Request in progress",
                "a request with this Idempotency-Key is still being processed",
                "idempotency-in-flight",
                headers={"Retry-After": "1"},
            )
        return Response(
            content=outcome.body,
            status_code=outcome.status,
            media_type="application/json",
        )

    submit.__name__ = f"submit_{case_type.value}"
    return _IntakeRoute(
        path,
        http_method=HttpMethod.POST,
        status_code=202,
        guards=[require_scopes("cases:write")],
        opt={"request_model": model},
        tags=["cases"],
        summary=f"Open a {case_type.value.replace('_', ' ')} case",
        description=(
            "Validates the canonical request, then writes the case, its first event, its outbox "
            "job, the raw message and an audit entry in one transaction before answering 202."
        ),
        responses={
            202: ResponseSpec(data_container=Accepted, description="Accepted and durable."),
            400: ResponseSpec(
                None, description="Malformed JSON or missing header.", media_type=PROBLEM_JSON
            ),
            409: ResponseSpec(
                None, description="Same key still in flight.", media_type=PROBLEM_JSON
            ),
            413: ResponseSpec(None, description="Body too large.", media_type=PROBLEM_JSON),
            422: ResponseSpec(
                None, description="Invalid field, or key reused.", media_type=PROBLEM_JSON
            ),
        },
    )(submit)


INTAKE_HANDLERS = [_intake_handler(t, p) for t, p in INTAKE_PATHS.items()]
