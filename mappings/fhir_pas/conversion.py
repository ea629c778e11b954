"""`casegate convert` for PAS: `fhir-pas -> canonical`, `fhir-pas-response -> canonical` and
`canonical -> fhir-pas`.

A refused input raises `ConversionError` whose rejection is the OperationOutcome a PAS server
would answer with (spec-35), so the CLI prints exactly what an EHR would receive.

Writing takes the canonical envelope (`{"case_type", "case_id", "payload", "created"}`, or a bare
prior-authorization payload); without `case_id` one is derived from the payload, and without
`created` (ISO 8601 with offset) the bundle is stamped with the current time.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from canonical.cases import PriorAuthorizationRequest
from mappings.conversions import ConversionError, LocatedError, register
from mappings.fhir_pas.errors import Issue, PasMappingError
from mappings.fhir_pas.request_builder import build_request_bundle
from mappings.fhir_pas.request_reader import read_request_bundle
from mappings.fhir_pas.response import read_response_bundle
from mappings.pointers import located


@register("fhir-pas", "canonical")
def pas_request_to_canonical(data: bytes) -> bytes:
    try:
        case_id, request = read_request_bundle(_json(data))
    except PasMappingError as exc:
        raise _refused(exc) from None
    envelope = {
        "case_type": "prior_authorization",
        "case_id": case_id,
        "payload": request.model_dump(mode="json"),
    }
    return json.dumps(envelope, indent=2).encode() + b"\n"


@register("fhir-pas-response", "canonical")
def pas_response_to_canonical(data: bytes) -> bytes:
    try:
        decision = read_response_bundle(_json(data))
    except PasMappingError as exc:
        raise _refused(exc) from None
    return decision.model_dump_json(indent=2).encode() + b"\n"


@register("canonical", "fhir-pas")
def canonical_to_pas_request(data: bytes) -> bytes:
    try:
        document = _json(data)
        payload: Any = document
        case_id: Any = None
        created: Any = None
        if isinstance(document, dict) and "payload" in document:
            if document.get("case_type", "prior_authorization") != "prior_authorization":
                raise _input_error("/case_type", "must be prior_authorization")
            payload = document["payload"]
            case_id, created = document.get("case_id"), document.get("created")
        prefix = "/payload" if payload is not document else ""
        try:
            request = PriorAuthorizationRequest.model_validate(payload)
        except ValidationError as exc:
            issues = [_pointer_issue(prefix + where, what) for where, what in located(exc)]
            raise PasMappingError("invalid prior_authorization", issues) from None
        if case_id is None:
            digest = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
            case_id = f"cg-{digest[:16]}"
        if not isinstance(case_id, str) or not case_id.strip():
            raise _input_error("/case_id", "must be a non-blank string")
        bundle = build_request_bundle(case_id, request, created=_created(created))
    except PasMappingError as exc:
        raise _refused(exc) from None
    return json.dumps(bundle, indent=2).encode() + b"\n"


def _json(data: bytes) -> Any:
    try:
        return json.loads(data, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise PasMappingError(
            "not JSON", [Issue("Bundle", "the body is not JSON (PAS takes JSON only)", "structure")]
        ) from None


def _created(value: object) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        created = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        created = None
    if created is None or created.tzinfo is None:
        raise _input_error("/created", "must be an ISO 8601 timestamp with a UTC offset")
    return created


def _pointer_issue(pointer: str, message: str) -> Issue:
    # The input is canonical JSON, not FHIR: the location is its JSON pointer.
    return Issue(pointer or "/", message, "value")


def _input_error(pointer: str, message: str) -> PasMappingError:
    return PasMappingError("invalid input", [_pointer_issue(pointer, message)])


def _refused(exc: PasMappingError) -> ConversionError:
    errors = [LocatedError(issue.expression, issue.diagnostics) for issue in exc.issues]
    return ConversionError(exc.summary, errors, exc.operation_outcome_bytes())
