"""The PAS facade: EHRs submit and inquire with PAS bundles; casegate answers as a PAS server.

`$submit` goes through the same intake as the canonical API (one commit with the case, its
first event, its job, the raw bundle and an audit entry, and the answer only after it), then
waits up to `fhir.facade_wait_seconds` for the payer: a decision in time is answered final,
anything else pended, and the EHR learns the rest through its Subscription or `$inquire`.

Structure is refused strictly (an OperationOutcome naming the element, the raw body kept with
its error for replay); data that conforms to PAS but fails casegate's own stricter checks is
accepted, with the findings returned as warnings and recorded on the case.
"""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Any

from litestar import Request, Response, Router, post
from litestar.exceptions import HTTPException

from canonical.cases import CaseType
from canonical.status import CaseStatus
from gateway.api.allow import with_allow
from gateway.api.intake import caller_of
from gateway.auth.guards import require_scopes
from gateway.fhir.capability import metadata
from gateway.fhir.ehr_subscriptions import SUBSCRIPTION_HANDLERS
from gateway.fhir.facade_intake import (
    INQUIRE_FORMAT,
    SUBMIT_FORMAT,
    claim_identifier,
    claim_key,
    facade_case,
    find_by_claim,
    sent_by,
)
from gateway.fhir.facade_responses import response_bundle, stored_request
from gateway.fhir.outcomes import FHIR_EXCEPTION_HANDLERS, FhirError, fhir_response
from gateway.intake import Caller, rejected_input
from gateway.metrics import GatewayMetrics
from gateway.runtime import Runtime, runtime_of
from gateway.settings import Settings
from gateway.store import cases
from gateway.store.records import CaseRow
from gateway.telemetry import CASE_ID, CASE_TYPE, OUTCOME, current_carrier, current_trace_id, traced
from mappings.fhir_pas.bundle_checks import check_bundle
from mappings.fhir_pas.errors import Issue, PasMappingError
from mappings.fhir_pas.request_reader import CLAIM, read_request_bundle_leniently

FHIR_PATH = "/fhir"
JSON_TYPES = frozenset({"application/fhir+json", "application/json"})
_WAITING = frozenset({CaseStatus.draft.value, CaseStatus.submitted.value})
_CASE_TYPE = CaseType.prior_authorization.value


def parse_bundle_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise PasMappingError(
            "not JSON", [Issue("Bundle", "the body is not JSON (PAS takes JSON only)", "structure")]
        ) from None


async def _refuse(
    runtime: Runtime, caller: Caller, raw: bytes, wire_format: str, error: FhirError
) -> FhirError:
    """Keep the refused body, encrypted, with its located error and its sender (for a replay),
    then hand back the error."""
    await runtime.committer.submit(
        rejected_input(
            raw=raw,
            wire_format=sent_by(wire_format, caller.client_id),
            caller=caller,
            error=error.summary(),
            trace_id=current_trace_id(),
        )
    )
    return error


async def _body(request: Request[Any, Any, Any], caller: Caller, wire_format: str) -> bytes:
    runtime = runtime_of(request)
    try:
        raw = await request.body()
    except HTTPException as exc:
        if exc.status_code != 413:
            raise
        limit = runtime.settings.fhir.max_bundle_bytes
        issue = Issue("Bundle", f"the bundle is larger than {limit} bytes", "too-costly")
        # Nothing of an oversized body is kept: only the fact and the reason.
        raise await _refuse(runtime, caller, b"", wire_format, FhirError(413, [issue])) from None
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in JSON_TYPES:
        issue = Issue("Bundle", "send application/fhir+json (PAS takes JSON only)", "not-supported")
        raise await _refuse(runtime, caller, raw, wire_format, FhirError(415, [issue]))
    return raw


async def _current(runtime: Runtime, case_id: str, tenant: str, wait: float) -> CaseRow:
    """The case once the payer has answered, or as it is when `wait` seconds have passed."""
    deadline = time.monotonic() + wait
    delay = 0.02
    while True:
        async with runtime.store.connect() as conn:
            row = await cases.get_case(conn, case_id, tenant)
        if row is None:
            raise FhirError(404, [Issue(f"{CLAIM}.identifier", "no such claim", "not-found")])
        remaining = deadline - time.monotonic()
        if row.status not in _WAITING or remaining <= 0:
            return row
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.25)


async def submit(request: Request[Any, Any, Any]) -> Response[bytes]:
    runtime = runtime_of(request)
    metrics: GatewayMetrics = request.app.state["metrics"]
    caller = caller_of(request)
    raw = await _body(request, caller, SUBMIT_FORMAT)
    with traced("fhir.submit", expected=(FhirError,)) as span:
        span.set_attribute(CASE_TYPE, _CASE_TYPE)
        try:
            read = read_request_bundle_leniently(parse_bundle_json(raw))
            identifier = claim_identifier(read.bundle.first)
        except PasMappingError as exc:
            span.set_attribute(OUTCOME, "rejected")
            metrics.intake(_CASE_TYPE, "rejected")
            raise await _refuse(
                runtime, caller, raw, SUBMIT_FORMAT, FhirError.refused(exc)
            ) from None
        record = facade_case(
            read=read,
            raw=raw,
            caller=caller,
            hasher=runtime.hasher,
            trace_context=current_carrier(),
            trace_id=current_trace_id(),
            policies=runtime.policies.book,
        )
        outcome = await runtime.committer.submit(record)
        span.set_attribute(OUTCOME, outcome.kind)
        metrics.intake(_CASE_TYPE, outcome.kind)
        if outcome.kind == "mismatch":
            issue = Issue(
                f"{CLAIM}.identifier",
                "another Claim was submitted under this identifier; send a Claim update",
                "duplicate",
            )
            raise await _refuse(runtime, caller, raw, SUBMIT_FORMAT, FhirError(422, [issue]))
        if outcome.kind == "in_flight":
            issue = Issue(f"{CLAIM}.identifier", "this Claim is being accepted; retry", "conflict")
            raise FhirError(409, [issue], {"Retry-After": "1"})
        case_id = str(json.loads(outcome.body)["case_id"])
        span.set_attribute(CASE_ID, case_id)
    wait = runtime.settings.fhir.facade_wait_seconds
    row = await _current(runtime, case_id, caller.tenant, wait)
    return fhir_response(response_bundle(row, read.bundle, identifier, warnings=read.findings))


async def inquire(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Query by example for the submitter's own claims: by the inquiry Claim's identifier."""
    runtime = runtime_of(request)
    caller = caller_of(request)
    raw = await _body(request, caller, INQUIRE_FORMAT)
    try:
        inquiry = check_bundle(parse_bundle_json(raw), first="Claim")
        identifier = claim_identifier(inquiry.first)
    except PasMappingError as exc:
        raise await _refuse(runtime, caller, raw, INQUIRE_FORMAT, FhirError.refused(exc)) from None
    key = claim_key(runtime.hasher, identifier)
    async with runtime.store.connect() as conn:
        found = await find_by_claim(conn, caller.client_id, key)
        row = None if found is None else await cases.get_case(conn, found.case_id, caller.tenant)
        stored = (
            None
            if found is None or row is None
            else await cases.get_message(conn, runtime.store.cipher, found.request_message_id)
        )
    parameters: dict[str, Any] = {"resourceType": "Parameters"}
    if found is not None and row is not None and stored is not None:
        original = stored_request(stored.body)
        bundle = response_bundle(row, original, found.claim_identifier)
        parameters["parameter"] = [{"name": "return", "resource": bundle}]
    await runtime.audit.record(
        caller.audit(
            "R",
            "0",
            case_id=None if row is None else row.id,
            payer_id=None if row is None else row.payer_id,
            trace_id=current_trace_id(),
            detail={"event": "fhir.inquire", "matches": 0 if row is None else 1},
        )
    )
    return fhir_response(parameters)


def facade_router(settings: Settings) -> Router:
    """Everything under /fhir that EHRs call; every error in it is an OperationOutcome."""
    limit = settings.fhir.max_bundle_bytes
    handlers = [
        post(
            "/Claim/$submit",
            guards=[require_scopes("system/Claim.write")],
            request_max_body_size=limit,
            status_code=200,
            name="fhir-claim-submit",
        )(submit),
        post(
            "/Claim/$inquire",
            guards=[require_scopes("system/ClaimResponse.read")],
            request_max_body_size=limit,
            status_code=200,
            name="fhir-claim-inquire",
        )(inquire),
        metadata,
        *with_allow(SUBSCRIPTION_HANDLERS),
    ]
    return Router(
        path=FHIR_PATH,
        route_handlers=handlers,
        exception_handlers=FHIR_EXCEPTION_HANDLERS,
        tags=["fhir"],
    )
