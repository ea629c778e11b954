"""The codec's one declared error, located without quoting data.

Every failure to read or write X12 raises `X12Error`, so callers (and the property tests) can
rely on nothing else escaping. The message says where (segment position, segment id, element,
component) and what is wrong, never the offending value: an element may hold a member id or a
name, and error text ends up in logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from mappings.pointers import located


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a stream of segments; positions count from 1, the first ISA being segment 1."""

    segment: int | None = None
    segment_id: str | None = None
    element: int | None = None
    component: int | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.segment is not None:
            parts.append(f"segment {self.segment}")
        if self.segment_id is not None:
            parts.append(f"({self.segment_id})" if parts else self.segment_id)
        if self.element is not None:
            parts.append(f"element {self.element:02d}")
        if self.component is not None:
            parts.append(f"component {self.component}")
        return " ".join(parts) or "interchange"


class X12Error(ValueError):
    """X12 that cannot be read or written; `ta1_code` is the TA1 note code it earns, if any."""

    def __init__(
        self, problem: str, location: Location | None = None, *, ta1_code: str = ""
    ) -> None:
        self.problem = problem
        self.location = location or Location()
        self.ta1_code = ta1_code
        super().__init__(f"{self.location}: {problem}")


class CanonicalMappingError(ValueError):
    """Valid X12 whose content the canonical model refuses (say, an NPI with a bad check digit).

    `problems` are (where, what) pairs; where is a loop and segment or a canonical JSON pointer.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))

    @classmethod
    def refused(cls, exc: ValidationError, under: str = "") -> CanonicalMappingError:
        """The model's objections, each pointed into the document below `under`."""
        return cls([(under + pointer, problem) for pointer, problem in located(exc)])
