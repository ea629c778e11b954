"""From a policy decision to what the gateway stores: the decision row with its SLA clock, and
either a send (routed by the decision) or the work items a person must resolve first.

A hold a person has already approved (low confidence, a policy exception, an amount) stays
approved when the case is decided again; missing documents and fields clear only when the new
data is really there, because the payer would notice otherwise.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from canonical.cases import CaseType
from gateway.store.ids import new_id
from gateway.store.work import NewCasePolicy, NewWorkItem
from policies.book import PolicyBook
from policies.decision import HoldKind, HoldReason, PolicyCase, PolicyDecision
from policies.errors import NoPackForPayer, PolicyEvaluationError

_log = structlog.get_logger("casegate.orchestration")

WAIVABLE = frozenset(
    {HoldKind.low_confidence, HoldKind.policy_exception, HoldKind.amount_over_threshold}
)
# An incomplete case whose pack names no reviewer still waits for someone: intake by default.
DEFAULT_QUEUE, DEFAULT_ROLE = "intake", "intake_specialist"
_MISSING_KINDS = (("attachment", HoldKind.missing_documents), ("field", HoldKind.missing_fields))


def decide(
    book: PolicyBook, case_type: CaseType, payload: Any, received_at: datetime
) -> PolicyDecision | None:
    """The decision, or None when no pack can decide (logged; the case then goes out routed by
    settings alone, as before policies existed, rather than stalling unseen)."""
    try:
        return book.decide(PolicyCase.of(case_type, payload, received_at))
    except (NoPackForPayer, PolicyEvaluationError) as exc:
        _log.warning("policy_undecided", error_type=type(exc).__name__, case_type=case_type.value)
        return None


@dataclass(frozen=True)
class CasePlan:
    decision: PolicyDecision
    policy: NewCasePolicy
    holds: list[HoldReason]
    work_items: list[NewWorkItem]

    @property
    def held(self) -> bool:
        return bool(self.work_items)

    def held_facts(self) -> dict[str, Any]:
        """Event data for a held case: why and where, by code and rule id only."""
        return {
            "held": sorted({item.kind for item in self.work_items}),
            "missing": [str(item) for item in self.decision.missing],
            "pack": f"{self.decision.pack_id} {self.decision.pack_version}",
            "work_items": [item.id for item in self.work_items],
        }

    def send_payload(self) -> dict[str, Any]:
        """The send job carries the decision's route, so the worker needs no second lookup."""
        return {"route": [str(target) for target in self.decision.route]}


def next_check_at(decision: PolicyDecision, rungs_raised: int, breached: bool) -> datetime | None:
    """The next moment the sweeper must look: the next rung, or the SLA deadline."""
    moments = [rung.at for rung in decision.escalation[rungs_raised:]]
    if not breached:
        moments.append(decision.sla.due_at)
    return min(moments) if moments else None


def plan_case(
    decision: PolicyDecision,
    *,
    case_id: str,
    tenant: str,
    now: datetime,
    waived: Collection[str] = (),
    rungs_raised: int = 0,
    breached: bool = False,
) -> CasePlan:
    holds = [h for h in decision.hold_reasons if not (h.hold in WAIVABLE and h.hold in waived)]
    items = [_work_item(decision, hold, case_id, tenant, now) for hold in holds]
    kinds = {hold.hold for hold in holds}
    for kind, item_kind in (
        ("attachment", HoldKind.missing_documents),
        ("field", HoldKind.missing_fields),
    ):
        lacking = [m for m in decision.missing if m.kind == kind]
        if lacking and item_kind not in kinds:
            reason = HoldReason(
                hold=item_kind,
                queue=DEFAULT_QUEUE,
                role=DEFAULT_ROLE,
                rule_id=lacking[0].rule_ids[0],
                detail=f"{len(lacking)} missing: {', '.join(m.code for m in lacking)}",
            )
            items.append(_work_item(decision, reason, case_id, tenant, now))
    policy = NewCasePolicy(
        case_id=case_id,
        pack_id=decision.pack_id,
        pack_version=decision.pack_version,
        fired_rules=[rule.rule_id for rule in decision.fired],
        decision=decision.model_dump(mode="json"),
        sla_due_at=decision.sla.due_at,
        next_check_at=next_check_at(decision, rungs_raised, breached),
        decided_at=now,
    )
    return CasePlan(decision=decision, policy=policy, holds=holds, work_items=items)


def _work_item(
    decision: PolicyDecision, hold: HoldReason, case_id: str, tenant: str, now: datetime
) -> NewWorkItem:
    return NewWorkItem(
        id=new_id(),
        tenant=tenant,
        case_id=case_id,
        kind=hold.hold.value,
        queue=hold.queue,
        role=hold.role,
        detail={
            "reason": hold.detail,
            "rule_id": hold.rule_id,
            "missing": [str(item) for item in decision.missing],
        },
        sla_due_at=decision.sla.due_at,
        created_at=now,
    )
