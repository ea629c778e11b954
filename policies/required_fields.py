"""The fields a pack may require for completeness, each with the check that finds it.

The canonical models make most fields optional because many payers do without them; whether a
given payer needs, say, a rendering provider for a surgery is a policy, so the list of what can
be required lives here and a pack naming anything else is refused at load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from canonical.cases import CasePayload
from canonical.clinical import ServiceLine

Check = Callable[[CasePayload, ServiceLine | None], bool]


@dataclass(frozen=True)
class RequiredField:
    name: str
    scope: Literal["case", "line"]
    description: str
    present: Check


def _path(payload: CasePayload, *names: str) -> Any:
    value: Any = payload
    for name in names:
        value = getattr(value, name, None)
        if value is None:
            return None
    return value


def _case(name: str, description: str, *path: str) -> RequiredField:
    return RequiredField(name, "case", description, lambda p, _: bool(_path(p, *path)))


def _line(name: str, description: str, check: Callable[[ServiceLine], bool]) -> RequiredField:
    # A line field is absent from a case without service lines.
    return RequiredField(
        name, "line", description, lambda _, line: line is not None and check(line)
    )


REQUIRED_FIELDS: dict[str, RequiredField] = {
    f.name: f
    for f in (
        _case("rendering_provider", "Rendering provider", "rendering_provider"),
        _case("facility", "Facility", "facility"),
        _case("patient.mrn", "Patient's medical record number", "patient", "mrn"),
        _case("coverage.group_number", "Coverage group number", "coverage", "group_number"),
        _case(
            "requesting_provider.taxonomy",
            "Requesting provider's taxonomy code",
            "requesting_provider",
            "taxonomy",
        ),
        _case("clinical_notes", "Clinical notes", "notes"),
        RequiredField(
            "secondary_diagnosis",
            "case",
            "A secondary diagnosis",
            lambda p, _: len(_path(p, "diagnoses") or []) >= 2,
        ),
        _line(
            "service_line.place_of_service",
            "Place of service on the service line",
            lambda line: line.place_of_service is not None,
        ),
        _line(
            "service_line.modifiers",
            "Procedure modifiers on the service line",
            lambda line: bool(line.modifiers),
        ),
        _line(
            "service_line.end_date",
            "End date of the service period",
            lambda line: line.service_period.end is not None,
        ),
        _line(
            "service_line.drug",
            "Drug (NDC and quantity) on the service line",
            lambda line: line.drug is not None,
        ),
    )
}
