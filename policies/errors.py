"""Errors a pack author can act on: each names the file, the line where known, and the reason.

A pack is data written by a person, so a refusal must point at the place to fix, the way a
compiler does; pack content is never PHI, so the reasons may quote it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PackError:
    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.reason}"


class PackRejected(Exception):
    """A pack that failed to load; every error found is listed, not only the first."""

    def __init__(self, errors: Sequence[PackError]) -> None:
        self.errors = tuple(errors)
        count = len(self.errors)
        first = str(self.errors[0]) if self.errors else "no reason given"
        more = f" (and {count - 1} more)" if count > 1 else ""
        super().__init__(f"{first}{more}")


class NoPackForPayer(LookupError):
    """No pack serves this payer and there is no default pack ('*') to fall back on."""

    def __init__(self, payer_id: str) -> None:
        super().__init__(f"no policy pack for payer {payer_id} and no default pack")
        self.payer_id = payer_id


class PolicyEvaluationError(RuntimeError):
    """The rules engine failed on a loaded pack: a defect, reported without the case's data."""
