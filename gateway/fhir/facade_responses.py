"""The PAS Response Bundle an EHR gets for its case, whatever state the case is in.

casegate answers as an intermediary: the ClaimResponse echoes the EHR's own Claim identifier,
item sequences and parties (trimmed to what identifies them, so no reference can dangle), and
states each item's review action. A case not yet decided is pended (A4) item by item; a
decision whose items do not carry the case's outcome (a payer that answered per case only) is
restated per item from the outcome. A case casegate holds for a person is pended too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from canonical.decisions import Decision, DecisionOutcome, ItemDecision, ReviewAction
from canonical.status import CaseStatus
from gateway.store.records import CaseRow
from mappings.fhir_pas.bundle_checks import PasBundle, check_bundle
from mappings.fhir_pas.errors import Issue
from mappings.fhir_pas.request_reader import CLAIM
from mappings.fhir_pas.response import ResponseParties, render_response_for

_ACTION_OF = {
    DecisionOutcome.approved: ReviewAction.certified,
    DecisionOutcome.partially_approved: ReviewAction.certified_partial,
    DecisionOutcome.denied: ReviewAction.not_certified,
    DecisionOutcome.pended: ReviewAction.pended,
    DecisionOutcome.more_info_requested: ReviewAction.contact_payer,
    DecisionOutcome.cancelled: ReviewAction.cancelled,
}
_STATUS_OUTCOME = {
    CaseStatus.approved: DecisionOutcome.approved,
    CaseStatus.partially_approved: DecisionOutcome.partially_approved,
    CaseStatus.denied: DecisionOutcome.denied,
    CaseStatus.more_info_requested: DecisionOutcome.more_info_requested,
    CaseStatus.cancelled: DecisionOutcome.cancelled,
}
_APPROVING = frozenset({ReviewAction.certified, ReviewAction.no_action_required})


def stored_request(body: bytes) -> PasBundle:
    """A request bundle the facade accepted earlier, read back from the message store."""
    return check_bundle(json.loads(body, parse_float=Decimal), first="Claim")


def response_bundle(
    row: CaseRow,
    request: PasBundle,
    claim_identifier: dict[str, str],
    *,
    warnings: list[Issue] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The case's current answer to the EHR's request bundle, warnings in an OperationOutcome."""
    claim = request.first
    sequences = [int(item["sequence"]) for item in claim.get("item") or []]
    extra = []
    if warnings:
        extra.append({"resourceType": "OperationOutcome", "issue": [w.to_json() for w in warnings]})
    decision = _stated(row, sequences)
    arguments: dict[str, Any] = {
        "case_id": row.id,
        "sequences": set(sequences),
        "parties": _parties(request),
        "created": now or datetime.now(UTC),
        "claim_identifier": claim_identifier,
        "extra": extra,
    }
    try:
        return render_response_for(decision, **arguments)
    except ValueError:
        # The payer's items disagree with its own outcome: state the outcome per item.
        return render_response_for(_per_item(decision, sequences), **arguments)


def _stated(row: CaseRow, sequences: list[int]) -> Decision:
    stored = None
    if row.decision is not None:
        try:
            stored = Decision.model_validate(row.decision)
        except ValidationError:
            stored = None
    outcome = _STATUS_OUTCOME.get(CaseStatus(row.status), DecisionOutcome.pended)
    if row.route is None and outcome is DecisionOutcome.more_info_requested:
        # Held for a person before any payer saw it: nothing is asked of the EHR yet.
        outcome = DecisionOutcome.pended
    if stored is None or stored.outcome is not outcome:
        base = stored or Decision(outcome=outcome)
        return _per_item(base.model_copy(update={"outcome": outcome}), sequences)
    if not stored.items:
        return _per_item(stored, sequences)
    return stored


def _per_item(decision: Decision, sequences: list[int]) -> Decision:
    action = _ACTION_OF[decision.outcome]
    reason = None if action in _APPROVING else decision.reason_code
    items = [ItemDecision(sequence=s, action=action, reason_code=reason) for s in sequences]
    return decision.model_copy(update={"items": items, "reason_code": reason})


def _parties(request: PasBundle) -> ResponseParties:
    claim = request.first
    _, patient = request.resolve(claim.get("patient"), "Patient", f"{CLAIM}.patient")
    _, payer = request.resolve(claim.get("insurer"), "Organization", f"{CLAIM}.insurer")
    _, provider = request.resolve(claim.get("provider"), "Organization", f"{CLAIM}.provider")
    return ResponseParties(
        patient=_trimmed(patient, ("name", "gender", "birthDate")),
        payer=_trimmed(payer, ("name",)),
        requester=_trimmed(provider, ("name",)),
    )


def _trimmed(resource: dict[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    """The resource's identifiers (without assigner references) and the `keep` elements."""
    copy: dict[str, Any] = {"resourceType": resource["resourceType"]}
    identifiers = [
        {key: entry[key] for key in ("type", "system", "value") if key in entry}
        for entry in resource.get("identifier") or []
    ]
    if identifiers:
        copy["identifier"] = identifiers
    copy.update((key, resource[key]) for key in keep if key in resource)
    return copy
