"""The values the tables' columns read, derived from a canonical case.

Derivations that need the pack (an NDC's drug class) or a judgement (a line without its own
place of service takes the facility's, as on a claim) happen here, once, so the tables only
compare values. A case type without service lines is seen as one line with no service facts,
so line tables still answer for it (and can tell it apart by case type).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from canonical.cases import (
    ClaimStatusRequest,
    DenialAppealRequest,
    InvoiceExceptionRequest,
    PriorAuthorizationRequest,
    Urgency,
)
from canonical.clinical import ServiceLine
from policies.conditions import Column
from policies.decision import PolicyCase


@dataclass(frozen=True)
class LineView:
    sequence: int | None
    line: ServiceLine | None
    values: dict[str, Any]


def urgency_of(case: PolicyCase) -> Urgency:
    payload = case.payload
    if isinstance(payload, PriorAuthorizationRequest):
        return payload.urgency
    return Urgency.standard


def amount_of(case: PolicyCase) -> float | None:
    """Dollars at stake: the caller's estimate, else what the payload itself states."""
    if case.estimated_amount is not None:
        return float(case.estimated_amount)
    payload = case.payload
    if isinstance(payload, ClaimStatusRequest | DenialAppealRequest):
        return float(payload.claim.total_charge)
    if isinstance(payload, InvoiceExceptionRequest):
        return float(sum(line.quantity * line.unit_price for line in payload.lines))
    return None


def drug_class_of(ndc: str, classes: Mapping[str, str]) -> str | None:
    """Class of an 11-digit NDC: listed as that package, or as its 9-digit product."""
    return classes.get(ndc) or classes.get(ndc[:9])


def attachment_kinds(case: PolicyCase) -> frozenset[str]:
    attachments = getattr(case.payload, "attachments", [])
    return frozenset(attachment.kind for attachment in attachments)


def line_views(case: PolicyCase, classes: Mapping[str, str]) -> list[LineView]:
    payload = case.payload
    if not isinstance(payload, PriorAuthorizationRequest):
        return [LineView(None, None, _no_service())]
    facility_place = payload.facility.place_of_service if payload.facility else None
    views = []
    for line in payload.service_lines:
        drug = line.drug
        values = {
            Column.procedure: line.procedure_code,
            Column.place_of_service: line.place_of_service or facility_place,
            Column.drug_class: drug_class_of(drug.ndc, classes) if drug else None,
            Column.units: float(line.units),
            Column.has_drug: drug is not None,
        }
        views.append(LineView(line.sequence, line, {str(k): v for k, v in values.items()}))
    return views


def _no_service() -> dict[str, Any]:
    return {
        str(Column.procedure): None,
        str(Column.place_of_service): None,
        str(Column.drug_class): None,
        str(Column.units): None,
        str(Column.has_drug): False,
    }


def case_values(case: PolicyCase, lines: Sequence[LineView]) -> dict[str, Any]:
    values = {
        Column.case_type: case.case_type.value,
        Column.urgency: urgency_of(case).value,
        Column.has_drug: any(view.values[Column.has_drug] for view in lines),
        Column.amount: amount_of(case),
        Column.confidence: case.confidence,
    }
    return {str(k): v for k, v in values.items()}
