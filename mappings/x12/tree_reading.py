"""Reading canonical values out of a validated loop tree: parties, names, dates, periods.

Shared by every reader (278, 270/271, 276/277, 835, 837), so a person or a provider reads the
same whichever transaction carries it. Values are returned as plain JSON-ready dicts for the
canonical models to validate; what X12 leaves empty is left out rather than sent as "".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from mappings.x12.element_checks import valid_date
from mappings.x12.errors import Location, X12Error
from mappings.x12.loop_tree import LoopNode, Placed
from mappings.x12.segments import Segment
from mappings.x12.vocabulary import SEX_FROM_X12


class OwnSegments:
    """A loop's own segments indexed in one pass, for readers that look many of them up."""

    __slots__ = ("by_id", "first")

    def __init__(self, node: LoopNode) -> None:
        self.by_id: dict[str, list[Segment]] = {}
        self.first: dict[tuple[str, str], Segment] = {}
        by_id, first = self.by_id, self.first
        for item in node.items:
            if type(item) is Placed:
                segment = item.segment
                elements = segment.elements
                found = by_id.get(elements[0])
                if found is None:
                    by_id[elements[0]] = [segment]
                else:
                    found.append(segment)
                qualifier = (
                    elements[1]
                    if len(elements) > 1 and segment.delimiters.release is None
                    else segment.get(1)
                )
                first.setdefault((elements[0], qualifier), segment)

    def get(self, segment_id: str, qualifier: str) -> Segment | None:
        return self.first.get((segment_id, qualifier))

    def all(self, segment_id: str) -> list[Segment]:
        return self.by_id.get(segment_id, [])


def needed(segment: Segment | None, segment_id: str) -> Segment:
    if segment is None:
        raise X12Error("the transaction needs this segment", Location(None, segment_id))
    return segment


def first_loop(node: LoopNode, loop_id: str) -> LoopNode:
    found = node.loops(loop_id)
    if not found:
        raise X12Error(f"the transaction needs loop {loop_id}")
    return found[0]


def present(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value not in (None, "")}


def ref_value(node: LoopNode, qualifier: str) -> str | None:
    ref = node.segment("REF", qualifier)
    return (ref.get(2) or None) if ref else None


def x12_date(value: str, segment_id: str) -> date:
    found = _date(value)
    if found is None:
        raise X12Error("not a CCYYMMDD date", Location(None, segment_id))
    return found


@lru_cache(maxsize=4096)
def _date(value: str) -> date | None:
    """Remittances and claims repeat the same few dates on every line: parse each once."""
    if not valid_date(value):
        return None
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def amount(value: str, segment_id: str, element: int) -> Decimal | None:
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise X12Error("not a number", Location(None, segment_id, element)) from None


def person(node: LoopNode) -> dict[str, Any]:
    name = needed(node.segment("NM1"), "NM1")
    dmg = node.segment("DMG")
    found = present(family=name.text(3), given=name.text(4))
    if dmg is not None:
        found["birth_date"] = x12_date(dmg.get(2), "DMG").isoformat()
        found["sex"] = SEX_FROM_X12.get(dmg.get(3), "unknown")
    where = address(node)
    if where:
        found["address"] = where
    return found


def address(node: LoopNode) -> dict[str, Any] | None:
    n3, n4 = node.segment("N3"), node.segment("N4")
    if n3 is None and n4 is None:
        return None
    found: dict[str, Any] = {"line": [n3.text(i) for i in (1, 2) if n3.get(i)] if n3 else []}
    if n4 is not None:
        postal = n4.get(3)
        postal = f"{postal[:5]}-{postal[5:]}" if len(postal) == 9 else postal
        found |= present(city=n4.text(1), state=n4.get(2), postal_code=postal)
    return found


def display_name(nm1: Segment) -> str:
    if nm1.get(2) == "1":
        return " ".join(p for p in (nm1.text(4), nm1.text(3)) if p)
    return nm1.text(3)


def provider(node: LoopNode) -> dict[str, Any]:
    nm1 = needed(node.segment("NM1"), "NM1")
    prv = node.segment("PRV")
    npi = nm1.get(9) if nm1.get(8) == "XX" else None
    return present(npi=npi, name=display_name(nm1), taxonomy=prv.get(3) if prv else None)


def payer_party(node: LoopNode) -> dict[str, str]:
    """The canonical payer of a payer name loop; one sending no name is known by its id."""
    nm1 = needed(node.segment("NM1"), "NM1")
    return {"id": nm1.get(9), "name": nm1.text(3) or nm1.get(9)}


def dtp_period(dtp: Segment) -> dict[str, str]:
    """A DTP (or a DTM-free D8/RD8 pair) as a canonical period; one day starts and ends it."""
    value = dtp.get(3)
    if dtp.get(2) == "RD8":
        start, _, end = value.partition("-")
        return {
            "start": x12_date(start, "DTP").isoformat(),
            "end": x12_date(end, "DTP").isoformat(),
        }
    day = x12_date(value, "DTP").isoformat()
    return {"start": day, "end": day}
