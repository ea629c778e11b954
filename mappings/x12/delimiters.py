"""The separators of an interchange, read from its fixed-width ISA.

X12 announces its delimiters by position rather than by declaration: the ISA is always 106
characters, so the byte after "ISA" is the element separator, ISA11 the repetition separator
(5010; earlier versions put a standards identifier there), ISA16 the component separator and
the byte after ISA16 the segment terminator. The release character is not announced by the ISA;
trading partners agree on it, so the caller passes it in.
"""

from __future__ import annotations

from dataclasses import dataclass

from mappings.x12.errors import Location, X12Error

ISA_LENGTH = 106
# ISA01..ISA16 widths; the element separator sits between them at fixed offsets.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_SEPARATOR_OFFSETS: tuple[int, ...] = tuple(
    3 + sum(ISA_WIDTHS[:i]) + i for i in range(len(ISA_WIDTHS))
)
_REPETITION_OFFSET = _SEPARATOR_OFFSETS[10] + 1
_COMPONENT_OFFSET = _SEPARATOR_OFFSETS[15] + 1
_TERMINATOR_OFFSET = ISA_LENGTH - 1
_AT_ISA = Location(1, "ISA")


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    segment: str = "~"
    repetition: str | None = "^"
    release: str | None = None

    def __post_init__(self) -> None:
        chosen = [self.element, self.component, self.segment]
        chosen += [c for c in (self.repetition, self.release) if c is not None]
        if any(len(c) != 1 or c.isalnum() or c == " " for c in chosen):
            raise X12Error("a delimiter must be one character, neither a letter, digit nor space")
        if len(set(chosen)) != len(chosen):
            raise X12Error("the delimiters must all differ", ta1_code="026")

    @property
    def all(self) -> str:
        return "".join(
            c
            for c in (self.element, self.component, self.segment, self.repetition, self.release)
            if c is not None
        )


def read_delimiters(isa: bytes, *, release: str | None = None) -> Delimiters:
    """The delimiters of the interchange whose first 106 bytes are `isa`."""
    if len(isa) < ISA_LENGTH:
        raise X12Error(
            f"an ISA is {ISA_LENGTH} characters; only {len(isa)} arrived",
            _AT_ISA,
            ta1_code="023",
        )
    if not isa.startswith(b"ISA"):
        raise X12Error("an interchange must start with an ISA segment", Location(1))
    element = chr(isa[3])
    if element.isalnum() or element == " ":
        raise X12Error("the element separator is a letter, digit or space", _AT_ISA, ta1_code="026")
    for number, offset in enumerate(_SEPARATOR_OFFSETS[1:], start=1):
        if isa[offset] != isa[3]:
            raise X12Error(
                "not the fixed width the ISA requires",
                Location(1, "ISA", number),
                ta1_code="022",
            )
    component = chr(isa[_COMPONENT_OFFSET])
    terminator = chr(isa[_TERMINATOR_OFFSET])
    repetition: str | None = chr(isa[_REPETITION_OFFSET])
    if component.isalnum() or component == " ":
        raise X12Error(
            "the component separator is a letter, digit or space",
            Location(1, "ISA", 16),
            ta1_code="027",
        )
    if terminator.isalnum() or terminator == " ":
        raise X12Error(
            "the segment terminator is a letter, digit or space", _AT_ISA, ta1_code="004"
        )
    if repetition is not None and (repetition.isalnum() or repetition == " "):
        repetition = None  # before 5010, ISA11 held a standards identifier ("U"), not a separator
    try:
        return Delimiters(element, component, terminator, repetition, release)
    except X12Error as exc:
        code = "004" if terminator in (element, component, repetition) else "027"
        raise X12Error(exc.problem, _AT_ISA, ta1_code=exc.ta1_code and code) from None


def isa_elements(isa: bytes) -> list[str]:
    """ISA00..ISA16 by fixed width, so a delimiter inside a padded field cannot shift the rest."""
    text = isa[:_TERMINATOR_OFFSET].decode("latin-1")
    elements = [text[:3]]
    for offset, width in zip(_SEPARATOR_OFFSETS, ISA_WIDTHS, strict=True):
        elements.append(text[offset + 1 : offset + 1 + width])
    return elements
