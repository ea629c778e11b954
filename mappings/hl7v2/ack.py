"""ACK messages: MSH + MSA (echoing the sender's MSH-10) + one ERR per located problem.

Original mode answers AA, AE or AR; enhanced mode (asked for by valuing MSH-15 or MSH-16)
answers CA, CE or CR. A problem with the envelope or an unsupported type, event, version or
processing id rejects (AR/CR); a problem with the content is an error (AE/CE).

ERR says where and why: from v2.5, ERR-2 (ERL location), ERR-3 (table 0357 code), ERR-4
(severity) and ERR-7 (our diagnosis, which never quotes a value); before v2.5 only ERR-1 (ELD)
exists, so it carries segment, field and code, and MSA-3 the diagnosis of the first problem.

The caller supplies the ACK's control id and time, which keeps this module pure and its output
reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mappings.hl7v2.codec import (
    CHARSETS,
    Field,
    Message,
    Repetition,
    Segment,
    components,
    parse,
    repeated,
    serialize,
    text_field,
)
from mappings.hl7v2.errors import Hl7CodecError, Issue, Location, Severity
from mappings.hl7v2.header import PROCESSING_IDS, SUPPORTED_VERSIONS

DEFAULT_VERSION = "2.5.1"


class AckMode(StrEnum):
    original = "original"
    enhanced = "enhanced"


class AckCode(StrEnum):
    accept = "AA"
    error = "AE"
    reject = "AR"
    commit_accept = "CA"
    commit_error = "CE"
    commit_reject = "CR"


@dataclass(frozen=True, slots=True)
class Sender:
    """Who the ACK comes from when the original message does not name its receiver."""

    application: str = "CASEGATE"
    facility: str = ""


def requested_mode(original: Segment | None) -> AckMode:
    """Enhanced mode when the sender valued MSH-15 or MSH-16, original mode otherwise."""
    if original is not None and (original.value(15) or original.value(16)):
        return AckMode.enhanced
    return AckMode.original


def ack_code(issues: Sequence[Issue], mode: AckMode) -> AckCode:
    errors = [i for i in issues if i.severity is Severity.error]
    enhanced = mode is AckMode.enhanced
    if any(i.rejects for i in errors):
        return AckCode.commit_reject if enhanced else AckCode.reject
    if errors:
        return AckCode.commit_error if enhanced else AckCode.error
    return AckCode.commit_accept if enhanced else AckCode.accept


def header_of(data: bytes) -> Segment | None:
    """The MSH of a message that may not parse as a whole, so that its ACK can still echo it.

    When even the MSH cannot be parsed (bad encoding characters, an unknown character set),
    its fields are split on the field separator alone, which is enough to echo MSH-10.
    """
    start = data.find(b"MSH")
    if start < 0:
        return None
    line = data[start:].replace(b"\n", b"\r").split(b"\r", 1)[0].translate(None, b"\x0b\x1c")
    try:
        return parse(line).header
    except Hl7CodecError:
        pass
    text = line.decode("latin-1")
    if len(text) < 4:
        return None
    separator = text[3]
    return Segment.of("MSH", separator, *text.split(separator)[1:])


def acknowledge(
    original: Segment | None,
    issues: Sequence[Issue] = (),
    *,
    control_id: str,
    at: datetime,
    mode: AckMode | None = None,
    sender: Sender | None = None,
) -> bytes:
    """The ACK for the message whose MSH is `original` (None when there was no readable MSH)."""
    sender = sender or Sender()
    msh = original or Segment("MSH")
    chosen = mode or requested_mode(original)
    version = msh.value(12) if msh.value(12) in SUPPORTED_VERSIONS else DEFAULT_VERSION
    modern = _version(version) >= (2, 5)
    code = ack_code(issues, chosen)
    event = msh.value(9, 2)
    message_type = components("ACK", event, "ACK" if _version(version) > (2, 3) else "")
    header = Segment.of(
        "MSH",
        "|",
        "^~\\&",
        msh.field(5) or text_field(sender.application),
        msh.field(6) or text_field(sender.facility),
        msh.field(3),
        msh.field(4),
        _timestamp(at),
        "",
        message_type,
        control_id,
        msh.field(11) if msh.value(11) in PROCESSING_IDS else "P",
        version,
        *([""] * 5),
        msh.field(18) if msh.value(18) in CHARSETS else "",
    )
    first_problem = issues[0].message if issues and not modern else ""
    segments = [header, Segment.of("MSA", code.value, msh.value(10), first_problem)]
    if issues and modern:
        segments.extend(_err(issue) for issue in issues)
    elif issues:
        segments.append(Segment.of("ERR", repeated(*(_eld(i) for i in issues))))
    return serialize(Message(tuple(segments)))


def _version(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _timestamp(at: datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S%z")


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _err(issue: Issue) -> Segment:
    where = issue.location
    code = components(issue.code.code, issue.code.text, "HL70357")
    return Segment.of("ERR", "", _erl(where), code, issue.severity.value, "", "", issue.message)


def _erl(where: Location) -> Field:
    if where.segment_id is None:
        return ()
    in_field = where.field is not None
    return components(
        where.segment_id,
        _number(where.occurrence),
        _number(where.field),
        _number(where.repetition) if in_field else "",
        _number(where.component) if in_field else "",
        _number(where.subcomponent) if in_field else "",
    )


def _eld(issue: Issue) -> Repetition:
    """ELD (v2.3, v2.4): segment id ^ sequence ^ field position ^ code&text&HL70357."""
    where = issue.location
    return (
        (where.segment_id or "",),
        (_number(where.occurrence),),
        (_number(where.field),),
        (issue.code.code, issue.code.text, "HL70357"),
    )
