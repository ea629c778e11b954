"""Building envelopes: ISA/IEA, GS/GE and ST/SE around transaction bodies, counts included.

Control numbers are the caller's: they must be unique per trading partner, which takes a
persisted counter, and a pure module keeps no state. Everything counted (SE01 segments, GE01
sets, IEA01 groups) is counted here, so a built interchange cannot disagree with itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mappings.x12.delimiters import Delimiters
from mappings.x12.envelope import Interchange, read_interchanges
from mappings.x12.errors import Location, X12Error
from mappings.x12.segments import Segment, build

MAX_CONTROL_NUMBER = 999_999_999


@dataclass(frozen=True, slots=True)
class Party:
    """A trading partner: ISA05/ISA06 (or ISA07/ISA08) and its GS02/GS03 application code."""

    id: str
    qualifier: str = "ZZ"
    application: str | None = None

    @property
    def application_code(self) -> str:
        return self.application or self.id


@dataclass(frozen=True, slots=True)
class InterchangeHeader:
    sender: Party
    receiver: Party
    control_number: int
    created: datetime
    usage: str = "T"  # ISA15: P production, T test
    acknowledgment_requested: bool = False
    delimiters: Delimiters = field(default_factory=Delimiters)
    line_break: str = ""  # written after each terminator; "" is the compact form


@dataclass(frozen=True, slots=True)
class Transaction:
    set_id: str
    control_number: str
    body: Sequence[Segment]  # the segments between ST and SE


@dataclass(frozen=True, slots=True)
class Group:
    functional_id: str
    version: str  # GS08, also written as each ST03
    control_number: int
    transactions: Sequence[Transaction]


def build_interchange(
    header: InterchangeHeader,
    groups: Sequence[Group],
    *,
    acknowledgments: Sequence[Segment] = (),
) -> Interchange:
    """The whole interchange; `acknowledgments` are TA1 segments carried before any group."""
    d = header.delimiters
    isa_fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        header.sender.qualifier,
        _padded(header.sender.id, 15, 6),
        header.receiver.qualifier,
        _padded(header.receiver.id, 15, 8),
        header.created.strftime("%y%m%d"),
        header.created.strftime("%H%M"),
        d.repetition or "U",
        "00501",
        _control(header.control_number, "ISA", 13),
        "1" if header.acknowledgment_requested else "0",
        header.usage,
        d.component,
    ]
    for number in (5, 6, 7, 8, 15):
        if any(c in d.all for c in isa_fields[number]) or not isa_fields[number].isascii():
            raise X12Error("holds a delimiter or a non-ASCII character", Location(1, "ISA", number))
    isa = Segment(isa_fields, d)
    segments = [isa, *acknowledgments]
    for group in groups:
        segments.append(
            build(
                "GS",
                group.functional_id,
                header.sender.application_code,
                header.receiver.application_code,
                header.created.strftime("%Y%m%d"),
                header.created.strftime("%H%M"),
                _control(group.control_number, "GS", 6).lstrip("0"),
                "X",
                group.version,
                delimiters=d,
            )
        )
        for transaction in group.transactions:
            segments.append(
                build(
                    "ST",
                    transaction.set_id,
                    transaction.control_number,
                    group.version,
                    delimiters=d,
                )
            )
            segments.extend(transaction.body)
            segments.append(
                build(
                    "SE",
                    str(len(transaction.body) + 2),
                    transaction.control_number,
                    delimiters=d,
                )
            )
        segments.append(
            build(
                "GE",
                str(len(group.transactions)),
                str(group.control_number),
                delimiters=d,
            )
        )
    segments.append(
        build("IEA", str(len(groups)), _control(header.control_number, "IEA", 2), delimiters=d)
    )
    for segment in segments:
        segment.suffix = header.line_break
    return next(read_interchanges(segments))


def _padded(value: str, width: int, element: int) -> str:
    if not 0 < len(value) <= width:
        raise X12Error(f"must be 1 to {width} characters", Location(None, "ISA", element))
    return value.ljust(width)


def _control(number: int, segment_id: str, element: int) -> str:
    if not 0 < number <= MAX_CONTROL_NUMBER:
        raise X12Error("a control number is 1 to 999999999", Location(None, segment_id, element))
    return f"{number:09d}"


def reply_header(
    received: Interchange,
    *,
    control_number: int,
    created: datetime,
    usage: str | None = None,
    line_break: str = "",
) -> InterchangeHeader:
    """The envelope of an answer: sender and receiver swapped, the sender's delimiters kept.

    The application codes come from the first group received, so a 999 reaches the application
    that sent the group it acknowledges.
    """
    group = received.groups[0].header if received.groups else None
    their_qualifier, their_id = received.sender
    our_qualifier, our_id = received.receiver
    return InterchangeHeader(
        sender=Party(our_id, our_qualifier, group.get(3) if group else None),
        receiver=Party(their_id, their_qualifier, group.get(2) if group else None),
        control_number=control_number,
        created=created,
        usage=usage or received.usage,
        delimiters=received.delimiters,
        line_break=line_break,
    )
