"""Why a rule fired, in one sentence a person can check against the pack and the case."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.rules import Rule


def explanation(rule: Rule, values: Mapping[str, Any], outcome: str) -> str:
    """Conditions with the case's values, the outcome, then the author's reason."""
    if rule.conditions:
        matched = "; ".join(
            f"{condition.text} (case: {shown(values.get(str(condition.column)))})"
            for condition in rule.conditions
        )
    else:
        matched = "any case"
    return f"{matched} -> {outcome}. {rule.why}"


def shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
