"""The registry behind `casegate convert`: pure conversions between wire formats, by name.

Each format registers its own conversions here, so the CLI and the tests reach every format the
same way. A failed conversion raises `ConversionError` carrying located errors and, where the
format has one, the rejection document its standard prescribes (an OperationOutcome, a 999, an
HL7 ACK), which the CLI prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Converter = Callable[[bytes], bytes]


@dataclass(frozen=True)
class LocatedError:
    location: str
    message: str


@dataclass
class ConversionError(Exception):
    summary: str
    errors: list[LocatedError] = field(default_factory=list)
    rejection: bytes | None = None

    def __str__(self) -> str:
        return self.summary


_CONVERTERS: dict[tuple[str, str], Converter] = {}


def register(source: str, target: str) -> Callable[[Converter], Converter]:
    def add(converter: Converter) -> Converter:
        if (source, target) in _CONVERTERS:
            raise ValueError(f"a conversion from {source} to {target} is already registered")
        _CONVERTERS[(source, target)] = converter
        return converter

    return add


def conversions() -> list[tuple[str, str]]:
    _load_builtin()
    return sorted(_CONVERTERS)


def convert(data: bytes, source: str, target: str) -> bytes:
    _load_builtin()
    converter = _CONVERTERS.get((source, target))
    if converter is None:
        known = ", ".join(f"{s}->{t}" for s, t in sorted(_CONVERTERS))
        raise ConversionError(f"no conversion from {source} to {target} (known: {known})")
    return converter(data)


def _load_builtin() -> None:
    # Importing a format module registers its conversions.
    from mappings import canonical_json  # noqa: F401, PLC0415
    from mappings.fhir_pas import conversion as fhir_pas_conversion  # noqa: F401, PLC0415
    from mappings.hl7v2 import conversion  # noqa: F401, PLC0415
    from mappings.x12 import conversion as x12_conversion  # noqa: F401, PLC0415
    from mappings.x12 import conversion_outbound  # noqa: F401, PLC0415
