"""PAS Response Bundle <-> canonical `Decision`.

The status of each item is its review action code (X12 HCR01) on `item.adjudication`, never
`ClaimResponse.outcome`: PAS 2.x keeps only complete, error and partial there, and older payers
still send `queued`. The case outcome is derived from the item codes (`outcome_of`), so a
Decision renders only when its outcome and reason agree with its items; the sandbox that plays
a PAS payer builds its answers with `render_response_bundle`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from canonical.base import Period
from canonical.cases import PriorAuthorizationRequest
from canonical.decisions import Decision, ItemDecision, ReviewAction
from mappings.fhir_pas import vocabulary as v
from mappings.fhir_pas.bundle_checks import check_bundle
from mappings.fhir_pas.errors import Issue, PasMappingError
from mappings.fhir_pas.fields import coded, decimal, missing, required
from mappings.fhir_pas.request_builder import (
    entry_url,
    fhir_number,
    patient_resource,
    payer_resource,
    provider_organization,
)

RESPONSE = "Bundle.entry[0].resource"
PAYER_REFERENCE_SYSTEM = "urn:casegate:payer-reference"
_NOT_A_REASON = frozenset({ReviewAction.certified, ReviewAction.no_action_required})
_OPEN = frozenset({ReviewAction.pended, ReviewAction.contact_payer})


def read_response_bundle(document: object) -> Decision:
    """The decision a PAS Response Bundle carries, or a PasMappingError naming the element."""
    bundle = check_bundle(document, first="ClaimResponse")
    response = bundle.first
    if response.get("use") != "preauthorization":
        raise PasMappingError(
            "not a prior authorization", [Issue(f"{RESPONSE}.use", "must be preauthorization")]
        )
    entries = required(response, "item", RESPONSE)
    items = [_item(index, entry) for index, entry in enumerate(entries)]
    sequences = [item.sequence for item in items]
    if len(set(sequences)) != len(sequences):
        raise PasMappingError(
            "repeated item", [Issue(f"{RESPONSE}.item", "repeats an itemSequence", "duplicate")]
        )
    notes = [n.get("text") for n in response.get("processNote") or [] if n.get("text")]
    identifiers = response.get("identifier") or []
    try:
        return Decision(
            outcome=v.outcome_of([item.action for item in items]),
            auth_number=response.get("preAuthRef"),
            authorized_period=_period(response.get("preAuthPeriod")),
            reason_code=_reason_code(items),
            reason_text=notes[0] if notes else None,
            payer_reference=identifiers[0].get("value") if identifiers else None,
            items=items,
            decided_at=_timestamp(response.get("created")),
        )
    except ValidationError as exc:
        where = {
            "auth_number": "preAuthRef",
            "authorized_period": "preAuthPeriod",
            "reason_text": "processNote",
            "payer_reference": "identifier",
            "items": "item",
        }
        issues = [
            Issue(
                f"{RESPONSE}.{where.get(str(e['loc'][0]), '') if e['loc'] else ''}".rstrip("."),
                e["msg"].removeprefix("Value error, "),
                "value",
            )
            for e in exc.errors(include_input=False, include_url=False, include_context=False)
        ]
        raise PasMappingError("the response does not map to a decision", issues) from None


def render_response_bundle(
    decision: Decision,
    *,
    case_id: str,
    request: PriorAuthorizationRequest,
    created: datetime,
) -> dict[str, Any]:
    """The PAS Response Bundle answering `request` with `decision`; its items must echo the
    request's service line sequences (spec-34)."""
    parties = ResponseParties(
        patient=patient_resource(request.patient, request.patient.mrn),
        payer=payer_resource(request.payer.id, request.payer.name),
        requester=provider_organization(request.requesting_provider),
    )
    sequences = {line.sequence for line in request.service_lines}
    return render_response_for(
        decision, case_id=case_id, sequences=sequences, parties=parties, created=created
    )


@dataclass(frozen=True)
class ResponseParties:
    """The resources a ClaimResponse references: patient, insurer and requestor."""

    patient: dict[str, Any]
    payer: dict[str, Any]
    requester: dict[str, Any]


def render_response_for(
    decision: Decision,
    *,
    case_id: str,
    sequences: set[int],
    parties: ResponseParties,
    created: datetime,
    claim_identifier: dict[str, Any] | None = None,
    extra: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The PAS Response Bundle for a request known by its item sequences and parties (an
    intermediary echoes the submitter's own resources); `claim_identifier` is the Claim's, or
    the case id; `extra` resources (an OperationOutcome with warnings) follow the parties."""
    if not decision.items:
        raise ValueError("a PAS response states its decision per item; the decision has none")
    if v.outcome_of([item.action for item in decision.items]) is not decision.outcome:
        raise ValueError("the decision's outcome disagrees with its items' review actions")
    if decision.reason_code != _reason_code(decision.items):
        raise ValueError("a PAS response carries reason codes per item; set them there")
    if any(item.sequence not in sequences for item in decision.items):
        raise ValueError("a decision item names a sequence the request does not have")
    urls = {
        role: entry_url(case_id, f"response:{role}") for role in ("patient", "payer", "requester")
    }
    stamp = (decision.decided_at or created).isoformat()
    response: dict[str, Any] = {"resourceType": "ClaimResponse"}
    if decision.payer_reference is not None:
        response["identifier"] = [
            {"system": PAYER_REFERENCE_SYSTEM, "value": decision.payer_reference}
        ]
    response |= {
        "status": "active",
        "type": {"coding": [{"system": v.CLAIM_TYPE, "code": "professional"}]},
        "use": "preauthorization",
        "patient": {"reference": urls["patient"]},
        "created": stamp,
        "insurer": {"reference": urls["payer"]},
        "requestor": {"reference": urls["requester"]},
        "request": {
            "identifier": claim_identifier or {"system": v.CASE_ID_SYSTEM, "value": case_id}
        },
        "outcome": "partial" if any(i.action in _OPEN for i in decision.items) else "complete",
    }
    if decision.auth_number is not None:
        response["preAuthRef"] = decision.auth_number
    if decision.authorized_period is not None:
        period = {"start": decision.authorized_period.start.isoformat()}
        if decision.authorized_period.end is not None:
            period["end"] = decision.authorized_period.end.isoformat()
        response["preAuthPeriod"] = period
    response["item"] = [_render_item(index, item) for index, item in enumerate(decision.items)]
    if decision.reason_text is not None:
        response["processNote"] = [{"number": 1, "type": "display", "text": decision.reason_text}]
    resources = [
        (urls["patient"], parties.patient),
        (urls["payer"], parties.payer),
        (urls["requester"], parties.requester),
        *(
            (entry_url(case_id, f"response:extra:{index}"), resource)
            for index, resource in enumerate(extra or [])
        ),
    ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "identifier": {"system": v.CASE_ID_SYSTEM, "value": case_id},
        "type": "collection",
        "timestamp": stamp,
        "entry": [
            {"fullUrl": entry_url(case_id, "response:claim-response"), "resource": response},
            *({"fullUrl": url, "resource": resource} for url, resource in resources),
        ],
    }
    check_bundle(bundle, first="ClaimResponse")
    return bundle


def _render_item(index: int, item: ItemDecision) -> dict[str, Any]:
    review: list[dict[str, Any]] = [
        {"url": "code", "valueCodeableConcept": _code(v.X12_REVIEW_ACTION, item.action.value)}
    ]
    if item.reason_code is not None:
        review.append(
            {"url": "reason", "valueCodeableConcept": _code(v.X12_REVIEW_REASON, item.reason_code)}
        )
    adjudication: dict[str, Any] = {
        "extension": [{"url": v.REVIEW_ACTION_URL, "extension": review}],
        "category": _code(v.ADJUDICATION, "submitted"),
    }
    if item.authorized_units is not None:
        at = f"{RESPONSE}.item[{index}].adjudication[0].value"
        adjudication["value"] = fhir_number(item.authorized_units, at)
    return {"itemSequence": item.sequence, "adjudication": [adjudication]}


def _code(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _item(index: int, item: dict[str, Any]) -> ItemDecision:
    at = f"{RESPONSE}.item[{index}]"
    for position, adjudication in enumerate(required(item, "adjudication", at)):
        where = f"{at}.adjudication[{position}]"
        for number, extension in enumerate(adjudication.get("extension") or []):
            if extension.get("url") != v.REVIEW_ACTION_URL:
                continue
            review = f"{where}.extension[{number}]"
            parts = {p.get("url"): p for p in extension.get("extension") or []}
            code = coded(
                (parts.get("code") or {}).get("valueCodeableConcept"), v.X12_REVIEW_ACTION, review
            )
            if code is None:
                raise missing(review, "the review action needs an X12 306 code")
            action = v.REVIEW_ACTIONS.get(code)
            if action is None:
                raise PasMappingError(
                    "unknown review action",
                    [Issue(review, "is not a known review action code", "code-invalid")],
                )
            reason = coded(
                (parts.get("reason") or {}).get("valueCodeableConcept"), v.X12_REVIEW_REASON, review
            )
            try:
                return ItemDecision(
                    sequence=item["itemSequence"],
                    action=action,
                    authorized_units=decimal(adjudication.get("value")),
                    reason_code=reason,
                )
            except ValidationError:
                raise PasMappingError(
                    "invalid item", [Issue(where, "does not form a valid item decision", "value")]
                ) from None
    raise missing(f"{at}.adjudication", "an item needs a reviewAction extension")


def _reason_code(items: list[ItemDecision]) -> str | None:
    """The case's reason: that of its first item not approved, as the X12 278 puts it on HCR02."""
    return next(
        (i.reason_code for i in items if i.action not in _NOT_A_REASON and i.reason_code), None
    )


def _period(period: object) -> Period | None:
    if not isinstance(period, dict) or period.get("start") is None:
        return None
    end = period.get("end")
    try:
        return Period(
            start=date.fromisoformat(period["start"][:10]),
            end=date.fromisoformat(end[:10]) if end else None,
        )
    except ValidationError:
        raise PasMappingError(
            "invalid period", [Issue(f"{RESPONSE}.preAuthPeriod", "ends before it starts", "value")]
        ) from None


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) <= 10:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else None
