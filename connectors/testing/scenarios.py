"""Scenario requests for the conformance kit, and a helper to derive payloads from one example."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from canonical.decisions import DecisionOutcome


@dataclass(frozen=True)
class Scenario:
    """One request the sandbox is scripted to answer in a known way.

    `then` is for a pended answer: the outcome that follow-ups with `follow_up` reach within
    `max_follow_ups` tries. `expect` is None for an operation that delivers without a decision
    (a notice to an EHR, a posting to an ERP): the answer must then carry none. The first
    scenario is also the plain request the fault tests send, so make it one the sandbox
    approves (or accepts).
    """

    name: str
    payload: Mapping[str, Any]
    expect: DecisionOutcome | None
    case_type: str = "prior_authorization"
    operation: str = "prior_auth.submit"
    reason_code: str | None = None
    then: DecisionOutcome | None = None
    follow_up: str = "prior_auth.inquire"
    max_follow_ups: int = 3


def with_values(payload: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of `payload` with each dotted path (`service_lines.0.units`) set."""
    result: dict[str, Any] = copy.deepcopy(dict(payload))
    for path, value in changes.items():
        *parents, last = path.split(".")
        node: Any = result
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return result
