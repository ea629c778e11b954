"""Moves prior-authorization and eligibility cases to and from a payer's Da Vinci PAS API.

`Claim/$submit` carries the PAS request Bundle with the case's idempotency key, so a resend
after a crash or a lost answer gets the payer's stored answer (the bundle's stamps are the only
bytes that differ between the two). A submit that names the payer's
reference is a PAS Claim Update (spec-63): the Claim points at the prior one through
`related.claim`. A cancellation is such an update whose Claim says `status = cancelled`; it
carries its own idempotency key, so it is one effect at the payer however often it is resent.
`Claim/$inquire` is an explicit check, made only when the gateway asks for one
(a person, or reconciliation of an overdue notification), never a poll (spec-9, spec-42).

Failures are classified by the OperationOutcome the payer sends (spec-35), not only by HTTP
status, and the error text repeats only its issue code and FHIRPath, never its diagnostics,
which may quote the request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from canonical.cases import CaseType, EligibilityCheckRequest, PriorAuthorizationRequest
from canonical.decisions import Decision
from canonical.eligibility import eligibility_decision
from connectors.contract import (
    KNOWN_OPERATIONS,
    ConnectorConfig,
    ConnectorRequest,
    ConnectorResponse,
)
from connectors.errors import (
    AuthError,
    ConnectorError,
    PermanentError,
    ProtocolError,
    TransientError,
    located_problems,
)
from connectors.fhir_pas.config import FhirPasConfig
from connectors.http import HttpConnector, HttpExchange
from connectors.oauth import BearerTokenAuth, ClientCredentialsTokens
from mappings.fhir_pas import PasMappingError, build_request_bundle, read_response_bundle
from mappings.fhir_pas.eligibility import build_eligibility_request, read_eligibility_response
from mappings.fhir_pas.response import PAYER_REFERENCE_SYSTEM

WIRE_FORMAT = "fhir-pas"
SUBMIT = "prior_auth.submit"
INQUIRE = "prior_auth.inquire"
CANCEL = "prior_auth.cancel"
ELIGIBILITY = "eligibility.check"
SUBMIT_PATH = "/Claim/$submit"
INQUIRE_PATH = "/Claim/$inquire"
ELIGIBILITY_PATH = "/CoverageEligibilityRequest/$submit"
METADATA_PATH = "/metadata"
SUBSCRIPTION_PATH = "/Subscription"
RELATED_CLAIM = "http://terminology.hl7.org/CodeSystem/related-claim-relationship"
# OperationOutcome issue codes (FHIR IssueType) that say the same request may succeed later.
_TRANSIENT_ISSUES = frozenset({"transient", "lock-error", "no-store", "timeout", "throttled"})
_ISSUE_CODE = re.compile(r"^[a-z][a-z-]{0,29}$")
_PLAIN_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_.\[\]]{0,99}$")
_AUTH_ISSUES = frozenset({"security", "login", "unknown", "expired", "forbidden", "suppressed"})
M = TypeVar("M", bound=BaseModel)
_OPERATIONS = {
    SUBMIT: CaseType.prior_authorization,
    INQUIRE: CaseType.prior_authorization,
    CANCEL: CaseType.prior_authorization,
    ELIGIBILITY: CaseType.eligibility_check,
}


class FhirPasConnector(HttpConnector):
    name: ClassVar[str] = "fhir_pas"
    wire_format: ClassVar[str] = WIRE_FORMAT
    capabilities: ClassVar[frozenset[str]] = frozenset(_OPERATIONS)
    Config: ClassVar[type[ConnectorConfig]] = FhirPasConfig

    def __init__(self, config: FhirPasConfig) -> None:
        self._tokens = ClientCredentialsTokens(
            config.auth,
            timeout_seconds=config.timeout_seconds,
            verify=config.tls.ssl_context(),
        )
        self.base_url = config.base_url
        super().__init__(
            base_url=config.base_url,
            timeout_seconds=config.timeout_seconds,
            auth=BearerTokenAuth(self._tokens),
            tls=config.tls,
        )

    async def check(self) -> None:
        exchange = await self._fhir("GET", METADATA_PATH, None)
        if _resource_type(exchange) != "CapabilityStatement":
            raise _off_contract(exchange, "metadata is not a CapabilityStatement")

    async def send(self, request: ConnectorRequest) -> ConnectorResponse:
        case_type = _OPERATIONS.get(request.operation)
        if case_type is None:
            named = request.operation if request.operation in KNOWN_OPERATIONS else "unknown"
            raise PermanentError(f"fhir_pas does not support the operation ({named})")
        if request.case_type != case_type:
            raise PermanentError(f"{request.operation} carries {case_type.value} cases only")
        if request.operation == ELIGIBILITY:
            eligibility = _payload(EligibilityCheckRequest, request.payload)
            body = _bytes(build_eligibility_request(request.case_id, eligibility, _now()))
            exchange = await self._fhir("POST", ELIGIBILITY_PATH, request, body)
            return _response(exchange, _eligibility_answer)
        case = _payload(PriorAuthorizationRequest, request.payload)
        if request.operation in (SUBMIT, CANCEL):
            bundle = build_request_bundle(request.case_id, case, created=_now())
            if request.payer_reference is not None:
                _as_update(bundle, request.payer_reference)
            if request.operation == CANCEL:
                bundle["entry"][0]["resource"]["status"] = "cancelled"
            exchange = await self._fhir("POST", SUBMIT_PATH, request, _bytes(bundle))
            return _response(exchange, _review_answer)
        bundle = build_request_bundle(request.case_id, case, created=_now())
        exchange = await self._fhir("POST", INQUIRE_PATH, request, _bytes(bundle))
        return _response(exchange, lambda body: _review_answer(_inquiry_answer(body)))

    async def subscribe(self, subscription: Mapping[str, Any]) -> str:
        """Create a Subscription at the payer; returns the id the payer gave it.

        Not part of the connector contract: the gateway calls it once per payer endpoint to
        follow pended requests by notification (spec-57/58).
        """
        body = _bytes(dict(subscription))
        exchange = await self._fhir("POST", SUBSCRIPTION_PATH, None, body)
        created = exchange.json()
        if not isinstance(created, dict) or created.get("resourceType") != "Subscription":
            raise _off_contract(exchange, "the payer did not answer with a Subscription")
        identifier = created.get("id")
        if not isinstance(identifier, str) or not identifier:
            raise _off_contract(exchange, "the created Subscription has no id")
        return identifier

    async def aclose(self) -> None:
        await super().aclose()
        await self._tokens.aclose()

    async def _fhir(
        self, method: str, path: str, request: ConnectorRequest | None, body: bytes | None = None
    ) -> HttpExchange:
        try:
            return await self.exchange(method, path, request, body)
        except (PermanentError, TransientError, AuthError) as exc:
            raise _classified(exc) from None


def _payload(model: type[M], payload: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        # Locations only, and `from None`: the validation error's text repeats the PHI.
        where = ", ".join(located_problems(exc))
        raise PermanentError(f"case payload is not a valid {model.__name__} at: {where}") from None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _bytes(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _as_update(bundle: dict[str, Any], payer_reference: str) -> None:
    claim = bundle["entry"][0]["resource"]
    claim["related"] = [
        {
            "claim": {"identifier": {"system": PAYER_REFERENCE_SYSTEM, "value": payer_reference}},
            "relationship": {"coding": [{"system": RELATED_CLAIM, "code": "prior"}]},
        }
    ]


def _inquiry_answer(body: object) -> object:
    """The PAS response Bundle inside an inquiry's `Parameters` (or sent bare)."""
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        found = [
            p.get("resource")
            for p in body.get("parameter") or []
            if isinstance(p, dict) and isinstance(p.get("resource"), dict)
        ]
        if not found:
            raise PermanentError("the payer holds no prior authorization matching the inquiry")
        return found[0]
    return body


Answer = tuple[Decision, dict[str, Any] | None]


def _review_answer(body: object) -> Answer:
    return read_response_bundle(body), None


def _response(exchange: HttpExchange, read: Callable[[object], Answer]) -> ConnectorResponse:
    body = exchange.json()
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        raise error_for_outcome(body, "HTTP 200", exchange.wire_request, exchange.wire_response)
    try:
        decision, data = read(body)
    except PasMappingError as exc:
        where = exc.issues[0].expression if exc.issues else "the body"
        raise _off_contract(exchange, f"payer response is off contract at {where}") from None
    return ConnectorResponse(
        decision=decision,
        wire_format=WIRE_FORMAT,
        wire_request=exchange.wire_request,
        wire_response=exchange.wire_response,
        payer_reference=decision.payer_reference,
        data=data,
    )


def _eligibility_answer(body: object) -> Answer:
    """The decision that summarises a CoverageEligibilityResponse, and its full result."""
    result = read_eligibility_response(body)
    return eligibility_decision(result), result.model_dump(mode="json")


def _resource_type(exchange: HttpExchange) -> object:
    body = exchange.json()
    return body.get("resourceType") if isinstance(body, dict) else None


def _off_contract(exchange: HttpExchange, reason: str) -> ProtocolError:
    return ProtocolError(
        reason, wire_request=exchange.wire_request, wire_response=exchange.wire_response
    )


def _classified(exc: ConnectorError) -> ConnectorError:
    """A refined error when the failed answer carries an OperationOutcome; else `exc` itself."""
    try:
        body = json.loads(exc.wire_response) if exc.wire_response else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return exc
    status = exc.reason.split(":", 1)[0]
    refined = error_for_outcome(body, status, exc.wire_request, exc.wire_response)
    # A 429, 5xx or 401 keeps its class: there the status is the stronger signal.
    wire = {"wire_request": exc.wire_request, "wire_response": exc.wire_response}
    if isinstance(exc, TransientError):
        return TransientError(refined.reason, exc.retry_after, **wire)
    if isinstance(exc, AuthError):
        return AuthError(refined.reason, **wire)
    return refined


def error_for_outcome(
    outcome: dict[str, Any], status: str, wire_request: bytes, wire_response: bytes
) -> ConnectorError:
    issues = [i for i in outcome.get("issue") or [] if isinstance(i, dict)]
    errors = [i for i in issues if i.get("severity") in ("error", "fatal")] or issues
    first = errors[0] if errors else {}
    code = first.get("code")
    code = code if isinstance(code, str) and _ISSUE_CODE.match(code) else "unspecified"
    expressions = first.get("expression") or []
    where = expressions[0] if expressions and isinstance(expressions[0], str) else ""
    # The code is a fixed vocabulary and a plain element path names no one; diagnostics (and
    # an expression with a filter or a literal in it) may quote the request, so they stay out.
    located = f" at {where}" if _PLAIN_PATH.match(where) else ""
    reason = f"{status}: OperationOutcome {code}{located}"
    wire = {"wire_request": wire_request, "wire_response": wire_response}
    if code in _TRANSIENT_ISSUES:
        return TransientError(reason, None, **wire)
    if code in _AUTH_ISSUES:
        return AuthError(reason, **wire)
    if status == "HTTP 200":
        return ProtocolError(reason, **wire)
    return PermanentError(reason, **wire)
