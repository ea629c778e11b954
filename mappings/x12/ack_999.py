"""The 999 implementation acknowledgment: built from a validation report, and read back.

A 999 says whether each transaction set was syntactically acceptable, never whether the payer
decided anything. It names segments by position and elements by number and data element
reference; the optional copy of the bad element (IK404) is never sent, since it may be PHI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mappings.x12.delimiters import Delimiters
from mappings.x12.envelope import Interchange
from mappings.x12.envelope_builder import Group, Transaction, build_interchange, reply_header
from mappings.x12.errors import Location, X12Error
from mappings.x12.findings import (
    ELEMENT_CODES,
    GROUP_CODES,
    SEGMENT_CODES,
    TRANSACTION_CODES,
    ElementError,
    GroupReport,
    SegmentError,
)
from mappings.x12.loop_tree import LoopNode
from mappings.x12.segments import Segment, build
from mappings.x12.specs.x231_999 import REFERENCE
from mappings.x12.validation import CheckedInterchange

_MAX_CODES = 5


def acknowledgment_body(group: GroupReport, *, delimiters: Delimiters) -> list[Segment]:
    """The segments between ST and SE of the 999 for one received functional group."""

    def seg(segment_id: str, *elements: str | list[str] | None) -> Segment:
        return build(segment_id, *elements, delimiters=delimiters)

    body = [seg("AK1", group.functional_id, group.control_number, group.version)]
    for transaction in group.transactions:
        reference = transaction.reference or None
        body.append(seg("AK2", transaction.set_id, transaction.control_number, reference))
        for error in transaction.errors:
            loop_id = error.loop[:4] if error.loop and error.loop != "ST" else None
            body.append(seg("IK3", error.segment_id, str(error.position), loop_id, error.code))
            for element in error.elements[:99]:
                where = [str(element.position), _number(element.component), _number(element.repeat)]
                body.append(seg("IK4", where, element.ref or None, element.code))
        codes = transaction.codes[:_MAX_CODES]
        body.append(seg("IK5", "A" if transaction.accepted else "R", *codes))
    received = len(group.transactions)
    body.append(
        seg(
            "AK9",
            group.status,
            str(received),
            str(received),
            str(group.accepted_count),
            *group.codes[:_MAX_CODES],
        )
    )
    return body


def build_999(
    checked: CheckedInterchange, *, control_number: int, created: datetime, line_break: str = ""
) -> Interchange:
    """One 999 per functional group received, in one FA group, in a reply interchange."""
    header = reply_header(
        checked.interchange,
        control_number=control_number,
        created=created,
        line_break=line_break,
    )
    transactions = [
        Transaction(
            "999",
            f"{number:04d}",
            acknowledgment_body(group, delimiters=header.delimiters),
        )
        for number, group in enumerate(checked.report.groups, start=1)
    ]
    if not transactions:
        raise X12Error("an interchange without functional groups is answered with a TA1")
    return build_interchange(header, [Group("FA", REFERENCE, control_number, transactions)])


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class AcknowledgedSet:
    set_id: str
    control_number: str
    reference: str
    status: str  # IK501: A accepted, E accepted with errors, R rejected ...
    codes: tuple[str, ...] = ()
    errors: tuple[SegmentError, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status in ("A", "E")


@dataclass(frozen=True, slots=True)
class Acknowledgment:
    """A 999 read back: the verdict on one functional group the reader had sent."""

    functional_id: str
    group_control_number: str
    version: str
    status: str  # AK901: A, E, P (partially accepted), R ...
    included: int
    received: int
    accepted: int
    codes: tuple[str, ...] = ()
    transactions: tuple[AcknowledgedSet, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "functional_id": self.functional_id,
            "group_control_number": self.group_control_number,
            "version": self.version,
            "status": self.status,
            "included": self.included,
            "received": self.received,
            "accepted": self.accepted,
            "errors": [{"code": c, "message": GROUP_CODES.get(c, "")} for c in self.codes],
            "transactions": [_set_json(t) for t in self.transactions],
        }


def read_999(tree: LoopNode) -> Acknowledgment:
    """The acknowledgment in a validated 999's loop tree."""
    ak1 = _required(tree.segment("AK1"), "AK1")
    ak9 = _required(tree.segment("AK9"), "AK9")
    sets = tuple(_acknowledged_set(node) for node in tree.loops("2000"))
    return Acknowledgment(
        functional_id=ak1.get(1),
        group_control_number=ak1.get(2),
        version=ak1.get(3),
        status=ak9.get(1),
        included=_count(ak9, 2),
        received=_count(ak9, 3),
        accepted=_count(ak9, 4),
        codes=tuple(c for c in (ak9.get(i) for i in range(5, 10)) if c),
        transactions=sets,
    )


def _acknowledged_set(node: LoopNode) -> AcknowledgedSet:
    ak2 = _required(node.segment("AK2"), "AK2")
    ik5 = _required(node.segment("IK5"), "IK5")
    errors = []
    for error_loop in node.loops("2100"):
        ik3 = _required(error_loop.segment("IK3"), "IK3")
        elements = []
        for element_loop in error_loop.loops("2110"):
            ik4 = _required(element_loop.segment("IK4"), "IK4")
            elements.append(
                ElementError(
                    position=_int(ik4.component(1, 1), "IK4", 1),
                    code=ik4.get(3),
                    ref=ik4.get(2),
                    component=_optional_int(ik4.component(1, 2)),
                    repeat=_optional_int(ik4.component(1, 3)),
                )
            )
        errors.append(
            SegmentError(
                segment_id=ik3.get(1),
                position=_int(ik3.get(2), "IK3", 2),
                code=ik3.get(4) or "8",
                loop=ik3.get(3) or None,
                elements=tuple(elements),
            )
        )
    return AcknowledgedSet(
        set_id=ak2.get(1),
        control_number=ak2.get(2),
        reference=ak2.get(3),
        status=ik5.get(1),
        codes=tuple(c for c in (ik5.get(i) for i in range(2, 7)) if c),
        errors=tuple(errors),
    )


def _set_json(acknowledged: AcknowledgedSet) -> dict[str, Any]:
    return {
        "set_id": acknowledged.set_id,
        "control_number": acknowledged.control_number,
        "reference": acknowledged.reference,
        "status": acknowledged.status,
        "errors": [
            {"code": c, "message": TRANSACTION_CODES.get(c, "")} for c in acknowledged.codes
        ],
        "segments": [
            {
                "segment_id": e.segment_id,
                "position": e.position,
                "loop": e.loop,
                "code": e.code,
                "message": SEGMENT_CODES.get(e.code, ""),
                "elements": [
                    {
                        "position": el.position,
                        "component": el.component,
                        "repeat": el.repeat,
                        "reference": el.ref or None,
                        "code": el.code,
                        "message": ELEMENT_CODES.get(el.code, ""),
                    }
                    for el in e.elements
                ],
            }
            for e in acknowledged.errors
        ],
    }


def _required(segment: Segment | None, segment_id: str) -> Segment:
    if segment is None:
        raise X12Error("a 999 needs this segment", Location(None, segment_id))
    return segment


def _count(segment: Segment, index: int) -> int:
    return _int(segment.get(index), segment.id, index)


def _int(value: str, segment_id: str, index: int) -> int:
    if not value.isascii() or not value.isdigit():
        raise X12Error("must be a whole number", Location(None, segment_id, index))
    return int(value)


def _optional_int(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() else None
