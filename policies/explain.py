"""A decision as text for a person: what was decided, then every rule that fired and why."""

from __future__ import annotations

from policies.decision import PolicyDecision


def explain(decision: PolicyDecision) -> list[str]:
    d = decision
    lines = [
        f"pack {d.pack_id} {d.pack_version} (sha256 {d.pack_digest}) for payer {d.payer_id}:"
        f" {d.case_type.value} received {d.received_at.isoformat()}",
    ]
    if d.auth_required:
        numbers = ", ".join(str(n) for n in d.auth_required_lines)
        lines.append(f"prior authorization: required (lines {numbers})")
    else:
        lines.append("prior authorization: not required")
    lines.append(f"complete: {'yes' if d.complete else 'no'}")
    for item in d.missing:
        where = f" (lines {', '.join(map(str, item.lines))})" if item.lines else ""
        rules = ", ".join(item.rule_ids)
        lines.append(f"  missing {item.kind} {item.code} {item.description}{where} [{rules}]")
    lines.append("route: " + " -> ".join(str(target) for target in d.route))
    sla = d.sla
    lines.append(
        f"decision due: {sla.due_at.isoformat()} ({sla.decide_within}, {sla.basis},"
        f" {sla.urgency.value}{f', {sla.rule_id}' if sla.rule_id else ''})"
    )
    if d.follow_up is not None:
        cadence = d.follow_up
        lines.append(
            f"follow-up when pended: after {cadence.first_after}, then every {cadence.every},"
            f" at most {cadence.limit} times [{cadence.rule_id}]"
        )
    for rung in d.escalation:
        lines.append(
            f"escalation: {rung.at.isoformat()} (after {rung.after}) -> {rung.queue}"
            f" ({rung.role}) [{rung.rule_id}]"
        )
    lines.append(f"hold for a person: {'yes' if d.hold_for_human else 'no'}")
    for hold in d.hold_reasons:
        lines.append(
            f"  {hold.hold.value} -> {hold.queue} ({hold.role}): {hold.detail} [{hold.rule_id}]"
        )
    lines.append("rules fired:")
    for rule in d.fired:
        scope = f"line {rule.line}" if rule.line is not None else "case"
        lines.append(f"  {rule.rule_id}  {rule.table}  {scope}  {rule.source}")
        lines.append(f"    {rule.explanation}")
    return lines
