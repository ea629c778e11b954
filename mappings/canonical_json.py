"""Canonical JSON in and out: validates a case payload and prints it in normal form.

The case type is read from a top-level `case_type` member when the document is an envelope
(`{"case_type": ..., "payload": {...}}`), else the payload is taken as a prior authorization,
the case type the canonical API opens most.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from canonical.cases import PAYLOAD_MODELS, CaseType
from mappings.conversions import ConversionError, LocatedError, register
from mappings.pointers import located


@register("canonical", "canonical")
def canonical_to_canonical(data: bytes) -> bytes:
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConversionError(
            "not JSON", [LocatedError(f"line {getattr(exc, 'lineno', 1)}", "malformed JSON")]
        ) from None
    case_type = CaseType.prior_authorization
    payload = document
    if isinstance(document, dict) and "case_type" in document:
        try:
            case_type = CaseType(document["case_type"])
        except ValueError:
            raise ConversionError(
                "unknown case type", [LocatedError("/case_type", "not a known case type")]
            ) from None
        payload = document.get("payload")
    try:
        model = PAYLOAD_MODELS[case_type].model_validate(payload)
    except ValidationError as exc:
        errors = [LocatedError(where, what) for where, what in located(exc)]
        raise ConversionError(
            f"invalid {case_type.value}: {len(errors)} error(s)", errors
        ) from None
    envelope = {"case_type": case_type.value, "payload": model.model_dump(mode="json")}
    return json.dumps(envelope, indent=2).encode() + b"\n"
