"""Reading elements out of an already model-checked resource, each miss named by FHIRPath.

The R4B models have checked types and cardinalities, so these helpers only look for the
elements and codes PAS (and casegate) require on top of that.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mappings.fhir_pas.errors import Issue, PasMappingError


def missing(at: str, what: str = "is required") -> PasMappingError:
    return PasMappingError("missing element", [Issue(at, what, "required")])


def required(node: dict[str, Any], key: str, at: str) -> Any:
    value = node.get(key)
    if value is None or value in ([], ""):
        raise missing(f"{at}.{key}")
    return value


def coded(concept: object, system: str, at: str) -> str | None:
    """The code of the first coding from `system`; None when the concept has none."""
    if not isinstance(concept, dict):
        return None
    for index, coding in enumerate(concept.get("coding") or []):
        if coding.get("system") == system:
            code = coding.get("code")
            if not isinstance(code, str):
                raise missing(f"{at}.coding[{index}].code")
            return code
    return None


def required_code(concept: object, system: str, at: str) -> str:
    code = coded(concept, system, at)
    if code is None:
        raise missing(at, f"needs a coding from {system}")
    return code


def identifier(resource: dict[str, Any], system: str) -> str | None:
    for entry in resource.get("identifier") or []:
        if entry.get("system") == system and isinstance(entry.get("value"), str):
            return str(entry["value"])
    return None


def typed_identifier(resource: dict[str, Any], type_system: str, code: str) -> str | None:
    for entry in resource.get("identifier") or []:
        value = entry.get("value")
        if coded(entry.get("type"), type_system, "") == code and isinstance(value, str):
            return value
    return None


def decimal(value: object) -> Decimal | None:
    """A JSON number as the exact decimal its text spelled (floats via their shortest repr)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return None
