"""A facade case whose data fails casegate's own checks waits for a person, not for the payer.

PAS lets such a bundle in (published examples carry NPIs of 9 digits), but no connector would
take its payload, so a send would only dead-letter. The case is held instead, with a work item
naming the canonical fields to correct; resolving it with the corrections (the work item API)
validates the case strictly, decides it again and sends it.

The policy decision taken at intake starts the case's clock and names who holds it. Policies
read codes, amounts, urgency and documents, so they are asked about a stand-in where each
failing field carries its documented example; the corrected case is decided afresh before
anything reaches the payer.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import ValidationError

from canonical.cases import CaseType, PriorAuthorizationRequest
from gateway.orchestration.decisions import DEFAULT_QUEUE, DEFAULT_ROLE, decide, plan_case
from gateway.store.ids import new_id
from gateway.store.work import NewCasePolicy, NewWorkItem
from mappings.fhir_pas.errors import Issue
from policies.book import PolicyBook
from policies.decision import HoldKind

DATA_QUALITY_RULE = "casegate.data-quality"

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class FacadePlan:
    """What intake writes besides the case: the decision row, the work items, the event facts."""

    policy: NewCasePolicy | None
    work_items: tuple[NewWorkItem, ...]
    send_payload: dict[str, Any] | None
    facts: dict[str, Any]

    @property
    def held(self) -> bool:
        return self.send_payload is None


def failing_fields(payload: dict[str, Any]) -> list[Location]:
    """Where the canonical contract rejects the payload, as field locations (never values)."""
    try:
        PriorAuthorizationRequest.model_validate(payload)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False, include_context=False)
        return list(dict.fromkeys(tuple(error["loc"]) for error in errors))
    return []


def _field_name(location: Location) -> str:
    return ".".join(str(part) for part in location)


def facade_plan(
    book: PolicyBook,
    *,
    payload: dict[str, Any],
    findings: list[Issue],
    case_id: str,
    tenant: str,
    now: datetime,
) -> FacadePlan:
    """A clean case is decided as on `/v1`; a case with findings is always held."""
    failing = failing_fields(payload) if findings else []
    subject = _stand_in(payload, failing) if failing else payload
    decision = None if subject is None else decide(book, CaseType.prior_authorization, subject, now)
    plan = None
    if decision is not None:
        plan = plan_case(decision, case_id=case_id, tenant=tenant, now=now)
    items = list(plan.work_items) if plan else []
    facts: dict[str, Any] = plan.held_facts() if plan is not None and plan.held else {}
    if failing:
        due = decision.sla.due_at if decision is not None else now
        items.append(
            _findings_item(failing, findings, case_id=case_id, tenant=tenant, now=now, due=due)
        )
        facts.update(
            held=sorted({item.kind for item in items}), work_items=[item.id for item in items]
        )
    if items:
        return FacadePlan(plan.policy if plan else None, tuple(items), None, facts)
    return FacadePlan(plan.policy if plan else None, (), plan.send_payload() if plan else {}, facts)


def _findings_item(
    failing: list[Location],
    findings: list[Issue],
    *,
    case_id: str,
    tenant: str,
    now: datetime,
    due: datetime,
) -> NewWorkItem:
    names = [_field_name(location) for location in failing]
    return NewWorkItem(
        id=new_id(),
        tenant=tenant,
        case_id=case_id,
        kind=HoldKind.missing_fields.value,
        queue=DEFAULT_QUEUE,
        role=DEFAULT_ROLE,
        detail={
            "reason": f"{len(names)} failing casegate's checks: {', '.join(names)}",
            "rule_id": DATA_QUALITY_RULE,
            "missing": [f"field:{name}" for name in names],
            "findings": sorted({issue.expression for issue in findings}),
        },
        sla_due_at=due,
        created_at=now,
    )


def _stand_in(payload: dict[str, Any], failing: list[Location]) -> dict[str, Any] | None:
    """The payload with each failing field set to its documented example; None when a field
    has none or the result still fails (the case is then held without a decision)."""
    stand_in = copy.deepcopy(payload)
    for location in failing:
        example = _example(location)
        if example is None or not _replace(stand_in, location, example):
            return None
    return None if failing_fields(stand_in) else stand_in


def _replace(document: Any, location: Location, value: Any) -> bool:
    *parents, last = location
    for part in parents:
        try:
            document = document[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(document, dict) and isinstance(last, str):
        document[last] = value
        return True
    if isinstance(document, list) and isinstance(last, int) and last < len(document):
        document[last] = value
        return True
    return False


@cache
def _schema() -> dict[str, Any]:
    return PriorAuthorizationRequest.model_json_schema()


def _resolved(node: dict[str, Any]) -> dict[str, Any]:
    """Follow references and optional wrappers to the schema that constrains the value."""
    while True:
        if "$ref" in node:
            node = _schema()["$defs"][str(node["$ref"]).rsplit("/", 1)[1]]
        elif "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            if len(options) != 1:
                return node
            node = options[0]
        else:
            return node


def _example(location: Location) -> Any:
    node: dict[str, Any] | None = _schema()
    for part in location:
        if node is None:
            return None
        node = _resolved(node)
        node = node.get("items") if isinstance(part, int) else node.get("properties", {}).get(part)
    if node is None:
        return None
    examples = _resolved(node).get("examples") or node.get("examples")
    return examples[0] if examples else None
