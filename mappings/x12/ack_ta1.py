"""The TA1 interchange acknowledgment: built for an envelope problem, and read back.

A TA1 answers the envelope only (ISA/IEA and the structure inside it) with one note code. It
is also what an interchange earns when its bytes cannot even be split into segments, as long
as its ISA can be read by position: the answer has to echo the ISA13 control number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mappings.x12.delimiters import ISA_LENGTH, Delimiters, isa_elements
from mappings.x12.envelope import Interchange
from mappings.x12.envelope_builder import (
    InterchangeHeader,
    Party,
    build_interchange,
    reply_header,
)
from mappings.x12.errors import Location, X12Error
from mappings.x12.findings import TA1_CODES
from mappings.x12.segments import Segment, build


def ta1_segment(received_isa: Segment, note_code: str, *, delimiters: Delimiters) -> Segment:
    """TA1 for the interchange headed by `received_isa`: A when the code is 000, else R."""
    if note_code not in TA1_CODES:
        raise X12Error("not a TA1 note code", Location(None, "TA1", 5))
    number = received_isa.get(13)
    if not (len(number) == 9 and number.isascii() and number.isdigit()):
        raise X12Error("the ISA13 to echo is not 9 digits", Location(None, "TA1", 1))
    return build(
        "TA1",
        received_isa.get(13),
        received_isa.get(9),
        received_isa.get(10),
        "A" if note_code == "000" else "R",
        note_code,
        delimiters=delimiters,
    )


def build_ta1(
    received: Interchange,
    note_code: str,
    *,
    control_number: int,
    created: datetime,
    line_break: str = "",
) -> Interchange:
    header = reply_header(
        received, control_number=control_number, created=created, line_break=line_break
    )
    segment = ta1_segment(received.header, note_code, delimiters=header.delimiters)
    return build_interchange(header, [], acknowledgments=[segment])


def ta1_for_unreadable(
    data: bytes, note_code: str, *, control_number: int, created: datetime
) -> bytes | None:
    """A TA1 for bytes that did not parse, read from the ISA's fixed positions; None if even
    those are not there (without the sender and ISA13 there is no one to answer)."""
    if len(data) < ISA_LENGTH or not data.startswith(b"ISA"):
        return None
    fields = isa_elements(data[:ISA_LENGTH])
    number = fields[13]
    sender, receiver = fields[6].strip(), fields[8].strip()
    if not (number.isascii() and number.isdigit() and len(number) == 9):
        return None
    if not (sender.isascii() and sender.isprintable() and receiver.isascii()):
        return None
    if not (sender and receiver and receiver.isprintable()):
        return None
    delimiters = Delimiters()
    if any(c in delimiters.all for c in "".join(fields[5:11])):
        return None
    try:
        header = InterchangeHeader(
            sender=Party(receiver, fields[7] or "ZZ"),
            receiver=Party(sender, fields[5] or "ZZ"),
            control_number=control_number,
            created=created,
            usage=fields[15] if fields[15] in ("P", "T", "I") else "P",
        )
        received_isa = Segment(fields, delimiters)
        segment = ta1_segment(received_isa, note_code or "022", delimiters=delimiters)
        return build_interchange(header, [], acknowledgments=[segment]).to_bytes()
    except X12Error:
        return None


@dataclass(frozen=True, slots=True)
class InterchangeAcknowledgment:
    control_number: str
    date: str
    time: str
    status: str  # A accepted, E accepted with errors, R rejected
    note_code: str

    @property
    def accepted(self) -> bool:
        return self.status in ("A", "E")

    def to_json(self) -> dict[str, Any]:
        return {
            "control_number": self.control_number,
            "date": self.date,
            "time": self.time,
            "status": self.status,
            "note_code": self.note_code,
            "note": TA1_CODES.get(self.note_code, "unknown note code"),
        }


def read_ta1(segment: Segment) -> InterchangeAcknowledgment:
    if segment.id != "TA1":
        raise X12Error("not a TA1 segment", Location(None, segment.id))
    values = [segment.get(i) for i in range(1, 6)]
    number, day, time, status, note = values
    if not (len(number) == 9 and number.isascii() and number.isdigit()):
        raise X12Error("must be a 9-digit control number", Location(None, "TA1", 1))
    if status not in ("A", "E", "R"):
        raise X12Error("must be A, E or R", Location(None, "TA1", 4))
    if note not in TA1_CODES:
        raise X12Error("not a TA1 note code", Location(None, "TA1", 5))
    return InterchangeAcknowledgment(number, day, time, status, note)
