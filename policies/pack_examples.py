"""A pack's own example cases: compiled at load, run by `casegate policy condition`.

An example names its expected decision in a few words ("attachment:09", "channel:fhir_pas",
rule ids), so a reviewer reads the intent of a rule next to the rule; the words are checked at
load, so a typo in an expectation fails the load instead of passing the condition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from canonical.cases import PAYLOAD_MODELS, payer_of
from policies.code_systems import PWK01_REPORT_TYPES
from policies.decision import ChannelKind, PolicyCase, PolicyDecision
from policies.errors import PackError
from policies.pack_schema import Examples, Expectation
from policies.required_fields import REQUIRED_FIELDS
from policies.yaml_source import SourceDocument

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


@dataclass(frozen=True)
class PackExample:
    name: str
    line: int | None
    case: PolicyCase
    expect: Expectation


def compile_examples(
    examples: Examples,
    payer: str,
    rule_ids: set[str],
    document: SourceDocument,
    errors: list[PackError],
) -> tuple[PackExample, ...]:
    compiled = []
    for i, example in enumerate(examples.cases):
        loc = ("examples", "cases", i)
        problems = _expectation_problems(example.expect, rule_ids)
        errors.extend(document.error((*loc, "expect", key), reason) for key, reason in problems)
        payload: dict[str, Any] = (
            {**examples.base, **example.case} if example.use_base else example.case
        )
        try:
            model = PAYLOAD_MODELS[example.case_type].model_validate(payload)
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                first = error["loc"][0] if error["loc"] else None
                inside_case = not example.use_base or first in example.case or first is None
                prefix = (*loc, "case") if inside_case else ("examples", "base")
                where = ".".join(str(step) for step in error["loc"]) or "case"
                errors.append(
                    document.error(
                        (*prefix, *error["loc"]), f"example case {where}: {error['msg']}"
                    )
                )
            continue
        if payer != "*" and payer_of(model) != payer:
            reason = f"example is for payer {payer_of(model)}, not this pack's payer {payer}"
            errors.append(document.error((*loc, "case"), reason))
            continue
        case = PolicyCase(
            case_type=example.case_type,
            payload=model,
            received_at=example.received_at,
            confidence=example.confidence,
            estimated_amount=example.estimated_amount,
        )
        compiled.append(PackExample(example.name, document.line_of(loc), case, example.expect))
    return tuple(compiled)


def _expectation_problems(expect: Expectation, rule_ids: set[str]) -> list[tuple[str, str]]:
    problems = []
    for rule_id in expect.fired or []:
        if rule_id not in rule_ids:
            problems.append(("fired", f"no rule {rule_id} in this pack"))
    for item in expect.missing or []:
        kind, _, code = item.partition(":")
        if not (
            (kind == "attachment" and code in PWK01_REPORT_TYPES)
            or (kind == "field" and code in REQUIRED_FIELDS)
        ):
            problems.append(("missing", f"'{item}' is not attachment:<PWK01 code> or field:<name>"))
    for item in expect.route or []:
        kind, _, name = item.partition(":")
        known_channel = kind == "channel" and name in set(ChannelKind)
        if not (known_channel or (kind == "connector" and _NAME.match(name))):
            problems.append(("route", f"'{item}' is not channel:<kind> or connector:<name>"))
    return problems


def example_problems(decision: PolicyDecision, expect: Expectation) -> list[str]:
    """How a decision differs from what its example expects; empty when it meets it."""
    actual: dict[str, Any] = {
        "auth_required": decision.auth_required,
        "complete": decision.complete,
        "missing": sorted(str(item) for item in decision.missing),
        "hold": sorted({reason.hold.value for reason in decision.hold_reasons}),
        "route": [str(target) for target in decision.route],
        "sla_due_at": decision.sla.due_at,
        "fired": sorted({rule.rule_id for rule in decision.fired}),
    }
    problems = []
    for key in sorted(expect.model_fields_set):
        wanted: Any = getattr(expect, key)
        if key in ("missing", "hold", "fired"):
            wanted = sorted({str(v) for v in wanted})
        if key == "route":
            wanted = [str(v) for v in wanted]
        if wanted != actual[key]:
            problems.append(f"{key}: expected {_shown(wanted)}, got {_shown(actual[key])}")
    return problems


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
