"""Moves prior-authorization cases to and from a payer's JSON REST API.

Submission is a POST carrying the case's idempotency key, so a resend after a crash or a lost
answer gets the payer's stored decision instead of a second authorization. A pended request is
followed up by GET on the payer's reference. The JSON itself is `mappings.payer_rest`'s job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import ValidationError

from canonical.cases import CaseType, PriorAuthorizationRequest
from connectors.contract import (
    KNOWN_OPERATIONS,
    ConnectorConfig,
    ConnectorRequest,
    ConnectorResponse,
)
from connectors.errors import PermanentError, ProtocolError, located_problems
from connectors.http import HttpConnector, HttpExchange
from connectors.oauth import BearerTokenAuth, ClientCredentialsTokens
from connectors.payer_rest.config import PayerRestConfig
from mappings.payer_rest import (
    WIRE_FORMAT,
    PayerResponseError,
    build_submission,
    parse_decision,
)

SUBMIT = "prior_auth.submit"
INQUIRE = "prior_auth.inquire"
REQUESTS_PATH = "/v1/prior-auth-requests"
STATUS_PATH = "/v1/status"


class PayerRestConnector(HttpConnector):
    name: ClassVar[str] = "payer_rest"
    wire_format: ClassVar[str] = WIRE_FORMAT
    capabilities: ClassVar[frozenset[str]] = frozenset({SUBMIT, INQUIRE})
    Config: ClassVar[type[ConnectorConfig]] = PayerRestConfig

    def __init__(self, config: PayerRestConfig) -> None:
        self._tokens = ClientCredentialsTokens(
            config.auth,
            timeout_seconds=config.timeout_seconds,
            verify=config.tls.ssl_context(),
        )
        super().__init__(
            base_url=config.base_url,
            timeout_seconds=config.timeout_seconds,
            auth=BearerTokenAuth(self._tokens),
            tls=config.tls,
        )

    async def check(self) -> None:
        await self.exchange("GET", STATUS_PATH, None)

    async def send(self, request: ConnectorRequest) -> ConnectorResponse:
        if request.operation not in self.capabilities:
            named = request.operation if request.operation in KNOWN_OPERATIONS else "unknown"
            raise PermanentError(f"payer_rest does not support the operation ({named})")
        if request.case_type != CaseType.prior_authorization:
            raise PermanentError("payer_rest carries prior_authorization cases only")
        if request.operation == SUBMIT:
            case = _prior_authorization(request.payload)
            body = json.dumps(build_submission(request.case_id, case), separators=(",", ":"))
            exchange = await self.exchange("POST", REQUESTS_PATH, request, body.encode())
        else:
            if request.payer_reference is None:
                raise PermanentError("prior_auth.inquire needs the payer_reference")
            path = f"{REQUESTS_PATH}/{quote(request.payer_reference, safe='')}"
            exchange = await self.exchange("GET", path, request)
        return _response(exchange, request.case_id)

    async def aclose(self) -> None:
        await super().aclose()
        await self._tokens.aclose()


def _prior_authorization(payload: Mapping[str, Any]) -> PriorAuthorizationRequest:
    try:
        return PriorAuthorizationRequest.model_validate(payload)
    except ValidationError as exc:
        # Locations only, and `from None`: the validation error's text repeats the PHI.
        where = ", ".join(located_problems(exc))
        raise PermanentError(
            f"case payload is not a valid prior authorization at: {where}"
        ) from None


def _response(exchange: HttpExchange, case_id: str) -> ConnectorResponse:
    try:
        decision = parse_decision(exchange.json(), request_id=case_id)
    except PayerResponseError as exc:
        raise ProtocolError(
            f"payer response is off contract at {exc}",
            wire_request=exchange.wire_request,
            wire_response=exchange.wire_response,
        ) from None
    return ConnectorResponse(
        decision=decision,
        wire_format=WIRE_FORMAT,
        wire_request=exchange.wire_request,
        wire_response=exchange.wire_response,
        payer_reference=decision.payer_reference,
    )
