"""A PAS mapping failure, reported the way PAS prescribes: one OperationOutcome (spec-35).

Each issue names the element by FHIRPath and says what is wrong with it, never what it holds:
a bundle carries names, birth dates and member ids anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Issue:
    expression: str
    diagnostics: str
    code: str = "invalid"
    severity: str = "error"

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
            "expression": [self.expression],
        }


class PasMappingError(ValueError):
    """The input cannot be mapped; `issues` locate each reason."""

    def __init__(self, summary: str, issues: Iterable[Issue]) -> None:
        self.summary = summary
        self.issues = list(issues)
        super().__init__(f"{summary}: {len(self.issues)} issue(s)")

    def operation_outcome(self) -> dict[str, Any]:
        return {"resourceType": "OperationOutcome", "issue": [i.to_json() for i in self.issues]}

    def operation_outcome_bytes(self) -> bytes:
        return json.dumps(self.operation_outcome(), indent=2).encode() + b"\n"


def fhirpath(root: str, location: Iterable[str | int]) -> str:
    """A pydantic error location under `root` as FHIRPath: ('entry', 0, 'use') -> entry[0].use."""
    path = root
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
