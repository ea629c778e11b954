"""Writing the segments of a transaction body from canonical values, keeping what did not fit.

Every builder (278, 270, 276, 837) writes the same parties the same way: HL levels numbered
as they are opened, names cut to their element's width, delimiters in free text replaced when
no release character is agreed. What had to change on the way is listed as `LeftOut` with a
JSON pointer into the canonical document, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from canonical.parties import Address, AdministrativeSex, Person
from mappings.x12.delimiters import Delimiters
from mappings.x12.errors import Location, X12Error
from mappings.x12.segments import Segment, Value, build
from mappings.x12.vocabulary import SEX


@dataclass(frozen=True, slots=True)
class LeftOut:
    """Part of the canonical document (a JSON pointer into it) that the X12 did not carry."""

    pointer: str
    reason: str


@dataclass(slots=True)
class BodyWriter:
    delimiters: Delimiters
    segments: list[Segment] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    hl: int = 0

    def add(self, segment_id: str, *elements: Value) -> None:
        self.segments.append(build(segment_id, *elements, delimiters=self.delimiters))

    def level(self, parent: int | None, code: str, children: bool) -> int:
        self.hl += 1
        self.add("HL", str(self.hl), str(parent or ""), code, "1" if children else "0")
        return self.hl

    def party(self, entity: str, name: str, pointer: str, qualifier: str, ident: str) -> None:
        """NM1 of an organization, or a provider known by one name: NM102 = 2, name in NM103."""
        self.add("NM1", entity, "2", self.text(name, 60, pointer), *gap(4), qualifier, ident)

    def text(self, value: str | None, limit: int, pointer: str) -> str:
        """`value` fit for an element: delimiters replaced, cut to `limit`, both reported."""
        if not value:
            return ""
        if self.delimiters.release is None and any(c in self.delimiters.all for c in value):
            value = "".join(" " if c in self.delimiters.all else c for c in value)
            self.left_out.append(LeftOut(pointer, "delimiter characters were sent as spaces"))
        if len(value) > limit:
            value = value[:limit]
            self.left_out.append(LeftOut(pointer, f"cut to the {limit} characters X12 allows"))
        return value

    def person_name(self, entity: str, person: Person, where: str, ident: list[str]) -> None:
        family = self.text(person.family, 60, f"{where}/family")
        given = self.text(person.given, 35, f"{where}/given")
        self.add("NM1", entity, "1", family, given, *gap(3), *ident)

    def demographics(self, person: Person, where: str, *, address: bool = True) -> None:
        if address and person.address:
            self.address(person.address, f"{where}/address")
        self.add("DMG", "D8", person.birth_date.strftime("%Y%m%d"), SEX[person.sex])
        if person.sex is AdministrativeSex.other:
            self.left_out.append(LeftOut(f"{where}/sex", "X12 has no code for 'other'; sent as U"))

    def address(self, address: Address, where: str) -> None:
        lines = [
            self.text(line, 55, f"{where}/line/{i}") for i, line in enumerate(address.line[:2])
        ]
        if len(address.line) > 2:
            self.left_out.append(LeftOut(f"{where}/line/2", "an X12 address has two lines"))
        if lines:
            self.add("N3", *lines)
        if address.city:
            postal = (address.postal_code or "").replace("-", "")
            self.add("N4", self.text(address.city, 30, f"{where}/city"), address.state, postal)
        elif address.state or address.postal_code:
            self.left_out.append(LeftOut(where, "state and postal code need a city in X12 (N4)"))


def open_body(
    delimiters: Delimiters | None,
    case_id: str,
    created: datetime,
    structure: str,
    purpose: str,
    *more: Value,
    originator: str | None = None,
) -> BodyWriter:
    """A writer whose first segment is the BHT carrying `case_id`, which answers echo back.

    A case id or trace originator the partner could not carry back is refused before any
    segment is written; `originator` is given by the bodies that write a TRN03.
    """
    if not 1 <= len(case_id) <= 50 or not case_id.isascii() or not case_id.isprintable():
        raise X12Error("a case id is 1 to 50 printable ASCII characters", Location(None, "BHT", 3))
    if originator is not None and len(originator) != 10:
        raise X12Error("the trace originator is 10 characters", Location(None, "TRN", 3))
    w = BodyWriter(delimiters or Delimiters())
    w.add("BHT", structure, purpose, case_id, f"{created:%Y%m%d}", f"{created:%H%M}", *more)
    return w


def gap(count: int) -> list[str]:
    return [""] * count


def period(start: date, end: date | None) -> list[str]:
    """A DTP's format qualifier and value: D8 for one day, RD8 for a range."""
    if end is None or end == start:
        return ["D8", start.strftime("%Y%m%d")]
    return ["RD8", f"{start:%Y%m%d}-{end:%Y%m%d}"]
