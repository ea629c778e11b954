"""Decide one case with one pack: consult the tables in order, then compute the clocks.

The order is fixed because later tables read earlier answers: documents may depend on whether
a line needs authorization, and the human-review thresholds read how much is missing. Every
row that fires is recorded with an explanation built from its conditions, the case's values
and the author's reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from canonical.cases import Urgency, payer_of
from policies.case_facts import LineView, attachment_kinds, case_values, line_views, urgency_of
from policies.code_systems import PWK01_REPORT_TYPES
from policies.conditions import Column
from policies.decision import (
    EscalationRung,
    FiredRule,
    FollowUpCadence,
    HoldKind,
    HoldReason,
    MissingItem,
    PolicyCase,
    PolicyDecision,
    RouteTarget,
    SlaClock,
)
from policies.durations import EXPEDITED_CMS, STANDARD_CMS
from policies.pack import Pack
from policies.pack_schema import ClocksThen, HumanReviewThen, TableName
from policies.required_fields import REQUIRED_FIELDS
from policies.rule_text import explanation, shown
from policies.rules import Rule

T = TableName


@dataclass
class _Missing:
    kind: Literal["attachment", "field"]
    code: str
    description: str
    lines: list[int] = field(default_factory=list)
    rule_ids: list[str] = field(default_factory=list)

    def add(self, sequence: int | None, rule_id: str) -> None:
        if sequence is not None and sequence not in self.lines:
            self.lines.append(sequence)
        if rule_id not in self.rule_ids:
            self.rule_ids.append(rule_id)


class _Run:
    def __init__(self, pack: Pack, case: PolicyCase) -> None:
        self.pack = pack
        self.case = case
        self.lines = line_views(case, pack.drug_classes)
        self.shared = case_values(case, self.lines)
        self.fired: list[FiredRule] = []

    def consult(
        self, table: TableName, view: LineView | None, extra: Mapping[str, Any]
    ) -> tuple[list[Rule], dict[str, Any]]:
        """The rows that fire for a line (or the case), and the values they were given."""
        values = {**self.shared, **(view.values if view else {}), **extra}
        rules = self.pack.tables[table]
        hits = self.pack.engine.answer(table, self.pack.engine.line_facts(values))
        return [rules[position] for position in hits], values

    def record(
        self, rule: Rule, view: LineView | None, values: Mapping[str, Any], outcome: str
    ) -> None:
        self.fired.append(
            FiredRule(
                rule_id=rule.id,
                table=str(rule.table),
                line=view.sequence if view else None,
                source=rule.source,
                explanation=explanation(rule, values, outcome),
            )
        )


def decide(pack: Pack, case: PolicyCase) -> PolicyDecision:
    run = _Run(pack, case)
    required: dict[int | None, bool] = {}
    for view in run.lines:
        (rule,), values = run.consult(T.prior_auth, view, {})
        required[view.sequence] = rule.then.required
        needed = "prior authorization required" if rule.then.required else "no prior auth needed"
        run.record(rule, view, values, needed)
    missing = _completeness(run, required)
    holds = _human_review(run, required, missing)
    any_required = {str(Column.auth_required): any(required.values())}
    (route_rule,), values = run.consult(T.routing, None, any_required)
    route = [
        RouteTarget(kind="channel", name=entry.channel.value)
        if entry.channel is not None
        else RouteTarget(kind="connector", name=str(entry.connector))
        for entry in route_rule.then.channels
    ]
    run.record(route_rule, None, values, "route " + " -> ".join(map(str, route)))
    clock_rules, values = run.consult(T.clocks, None, any_required)
    clock_rule = clock_rules[0] if clock_rules else None
    if clock_rule is not None:
        run.record(clock_rule, None, values, _clock_outcome(clock_rule.then))
    sla, follow_up, ladder = _clocks(pack, case, clock_rule)
    return PolicyDecision(
        pack_id=pack.id,
        pack_version=pack.version,
        pack_digest=pack.digest,
        payer_id=payer_of(case.payload),
        case_type=case.case_type,
        received_at=case.received_at,
        time_zone=pack.time_zone.key,
        auth_required=any(required.values()),
        auth_required_lines=[seq for seq, needed in required.items() if needed and seq is not None],
        complete=not missing,
        missing=missing,
        route=route,
        sla=sla,
        follow_up=follow_up,
        escalation=ladder,
        hold_for_human=bool(holds),
        hold_reasons=holds,
        fired=run.fired,
    )


def _completeness(run: _Run, required: Mapping[int | None, bool]) -> list[MissingItem]:
    present = attachment_kinds(run.case)
    found: dict[tuple[str, str], _Missing] = {}
    for view in run.lines:
        extra = {str(Column.auth_required): required[view.sequence]}
        rules, values = run.consult(T.documents, view, extra)
        for rule in rules:
            notes = []
            for code in rule.then.attachments:
                have = code in present
                notes.append(f"attachment {code} {PWK01_REPORT_TYPES[code]}: {_state(have)}")
                if not have:
                    item = _Missing("attachment", code, PWK01_REPORT_TYPES[code])
                    found.setdefault(("attachment", code), item).add(view.sequence, rule.id)
            for name in rule.then.fields:
                spec = REQUIRED_FIELDS[name]
                have = spec.present(run.case.payload, view.line)
                notes.append(f"field {name}: {_state(have)}")
                if not have:
                    item = _Missing("field", name, spec.description)
                    sequence = view.sequence if spec.scope == "line" else None
                    found.setdefault(("field", name), item).add(sequence, rule.id)
            run.record(rule, view, values, "requires " + "; ".join(notes))
    return [
        MissingItem(
            kind=m.kind,
            code=m.code,
            description=m.description,
            lines=sorted(m.lines),
            rule_ids=m.rule_ids,
        )
        for m in found.values()
    ]


def _state(present: bool) -> str:
    return "present" if present else "missing"


def _human_review(
    run: _Run, required: Mapping[int | None, bool], missing: list[MissingItem]
) -> list[HoldReason]:
    counts = {
        str(Column.missing_documents): float(sum(1 for m in missing if m.kind == "attachment")),
        str(Column.missing_fields): float(sum(1 for m in missing if m.kind == "field")),
    }
    holds: dict[tuple[str, str], HoldReason] = {}
    for view in run.lines:
        extra = {**counts, str(Column.auth_required): required[view.sequence]}
        rules, values = run.consult(T.human_review, view, extra)
        for rule in rules:
            then: HumanReviewThen = rule.then
            run.record(rule, view, values, f"hold for {then.queue} ({then.role}): {then.hold}")
            holds.setdefault(
                (then.hold.value, then.queue),
                HoldReason(
                    hold=then.hold,
                    queue=then.queue,
                    role=then.role,
                    rule_id=rule.id,
                    detail=_hold_detail(run, then.hold, missing),
                ),
            )
    return list(holds.values())


def _hold_detail(run: _Run, hold: HoldKind, missing: list[MissingItem]) -> str:
    """A PHI-free line for the work queue: codes, counts and figures, never case text."""
    if hold in (HoldKind.missing_documents, HoldKind.missing_fields):
        kind = "attachment" if hold is HoldKind.missing_documents else "field"
        codes = [m.code for m in missing if m.kind == kind]
        return f"{len(codes)} missing: {', '.join(codes)}" if codes else "nothing missing"
    if hold is HoldKind.low_confidence:
        return f"data confidence {shown(run.case.confidence)}"
    if hold is HoldKind.amount_over_threshold:
        return f"amount {shown(run.shared[str(Column.amount)])}"
    return "policy exception"


def _clock_outcome(then: ClocksThen) -> str:
    parts = [f"decide within {then.decide_within}" if then.decide_within else "CMS-0057-F clock"]
    if then.follow_up:
        cadence = then.follow_up
        parts.append(
            f"follow up after {cadence.first_after}, then every {cadence.every},"
            f" at most {cadence.limit} times"
        )
    if then.escalation:
        rungs = ", ".join(f"after {r.after} to {r.queue} ({r.role})" for r in then.escalation)
        parts.append(f"escalate {rungs}")
    return "; ".join(parts)


def _clocks(
    pack: Pack, case: PolicyCase, rule: Rule | None
) -> tuple[SlaClock, FollowUpCadence | None, list[EscalationRung]]:
    """Deadlines as absolute times from the received time, so they can be stored and survive."""
    urgency = urgency_of(case)
    then: ClocksThen = rule.then if rule is not None else ClocksThen()
    cms = EXPEDITED_CMS if urgency is Urgency.expedited else STANDARD_CMS
    within = then.decide_within or cms
    sla = SlaClock(
        urgency=urgency,
        decide_within=within,
        basis="CMS-0057-F" if then.decide_within is None else "payer",
        rule_id=None if rule is None or then.decide_within is None else rule.id,
        due_at=within.after(case.received_at, pack.time_zone),
    )
    if rule is None:
        return sla, None, []
    follow_up = None
    if then.follow_up is not None:
        follow_up = FollowUpCadence(
            first_after=then.follow_up.first_after,
            every=then.follow_up.every,
            limit=then.follow_up.limit,
            rule_id=rule.id,
        )
    ladder = [
        EscalationRung(
            after=rung.after,
            at=rung.after.after(case.received_at, pack.time_zone),
            queue=rung.queue,
            role=rung.role,
            rule_id=rule.id,
        )
        for rung in then.escalation
    ]
    return sla, follow_up, ladder
