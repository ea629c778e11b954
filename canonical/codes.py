"""Identifier and code validators shared by every case type.

These check shape and check digits only: whether a code exists in this year's code set is a
policy question (code sets are licensed and change yearly), so it does not belong here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field

_NPI_PREFIX_SUM = 24  # Luhn contribution of the "80840" prefix the NPI standard prepends.
_ICD10CM = re.compile(r"^([A-TV-Z][0-9][0-9A-Z])(?:\.?([0-9A-Z]{1,4}))?$")
_CPT = re.compile(r"^[0-9]{4}[0-9FTU]$")
_HCPCS = re.compile(r"^[A-V][0-9]{4}$")
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")
_NDC_FORMS = {
    (4, 4, 2): (1, 4, 2),
    (5, 3, 2): (5, 1, 2),
    (5, 4, 1): (5, 4, 1),
    (5, 4, 2): (5, 4, 2),
}


def npi_is_valid(value: str) -> bool:
    """Luhn over the prefixed number, as the NPI final rule defines the check digit."""
    if len(value) != 10 or not value.isdigit():
        return False
    total = _NPI_PREFIX_SUM
    for position, char in enumerate(reversed(value[:9])):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(value[9])


def _npi(value: str) -> str:
    if not npi_is_valid(value):
        raise ValueError("not a valid NPI: 10 digits with a Luhn check digit (80840 prefix)")
    return value


def _icd10cm(value: str) -> str:
    match = _ICD10CM.match(value.strip().upper())
    if match is None:
        raise ValueError("not an ICD-10-CM code: letter, digit, alphanumeric, then up to 4 more")
    category, detail = match.groups()
    return f"{category}.{detail}" if detail else category


def procedure_code_system(value: str) -> str:
    """Tell CPT from HCPCS Level II, since X12 and FHIR qualify the two differently."""
    if _CPT.match(value):
        return "CPT"
    if _HCPCS.match(value):
        return "HCPCS"
    raise ValueError("not a CPT (5 characters, 4 digits first) or HCPCS Level II code (A1234)")


def _procedure(value: str) -> str:
    value = value.strip().upper()
    procedure_code_system(value)
    return value


def _modifier(value: str) -> str:
    value = value.strip().upper()
    if not _MODIFIER.match(value):
        raise ValueError("a procedure modifier is two letters or digits")
    return value


def normalize_ndc(value: str) -> str:
    """Return the 11-digit 5-4-2 form that claims carry, from any of the labeled 10-digit forms."""
    parts = value.strip().split("-")
    if len(parts) == 1 and len(parts[0]) == 11 and parts[0].isdigit():
        return parts[0]
    lengths = tuple(len(p) for p in parts)
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or lengths not in _NDC_FORMS:
        raise ValueError("not an NDC: 11 digits, or 4-4-2, 5-3-2, 5-4-1 or 5-4-2 with hyphens")
    return parts[0].zfill(5) + parts[1].zfill(4) + parts[2].zfill(2)


def _documented(pattern: str, example: str, **extra: str) -> Any:
    """The shape for the OpenAPI document only; the validator enforces it with its own message."""
    return Field(examples=[example], json_schema_extra={"pattern": pattern, **extra})


Npi = Annotated[str, _documented(r"^[0-9]{10}$", "1234567893", format="npi"), AfterValidator(_npi)]
Icd10Cm = Annotated[
    str,
    _documented(r"^[A-TV-Za-tv-z][0-9][0-9A-Za-z](\.?[0-9A-Za-z]{1,4})?$", "M17.11"),
    AfterValidator(_icd10cm),
]
ProcedureCode = Annotated[
    str,
    _documented(r"^([0-9]{4}[0-9FTUftu]|[A-Va-v][0-9]{4})$", "27447"),
    AfterValidator(_procedure),
]
Modifier = Annotated[str, _documented(r"^[0-9A-Za-z]{2}$", "RT"), AfterValidator(_modifier)]
Ndc = Annotated[
    str,
    _documented(
        r"^([0-9]{4}-[0-9]{4}-[0-9]{2}|[0-9]{5}-[0-9]{3}-[0-9]{2}|[0-9]{5}-[0-9]{4}-[0-9]{1,2}|[0-9]{11})$",
        "00002-7510-01",
    ),
    AfterValidator(normalize_ndc),
]
PlaceOfService = Annotated[str, Field(pattern=r"^[0-9]{2}$", examples=["22"])]
MemberId = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9\-]+$")]
PayerId = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._\-]+$")]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
