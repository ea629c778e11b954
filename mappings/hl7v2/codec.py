"""HL7 v2 (2.3 to 2.8) bytes <-> a tree of segments, fields, repetitions, components.

The tree holds decoded text: escapes are resolved, separators are structure. Trailing empty
parts carry no meaning in HL7 (`A^B^^` is `A^B`), so they are dropped on reading, which makes
`parse(serialize(m)) == m` hold for every normalized tree and `serialize(parse(b))` a fixed
point after one round.

Senders are sloppy in known ways, and refusing them would only stall an interface: LF or CRLF
segment ends, blank lines and stray MLLP framing bytes (0x0B, 0x1C) are accepted and counted in
`Message.tolerated`, so the connector can report them. Anything else that cannot be read raises
`Hl7CodecError`, located at the segment and field, and nothing else escapes `parse`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from mappings.hl7v2.delimiters import Delimiters, EscapeError
from mappings.hl7v2.errors import ErrorCode, Hl7CodecError, Issue, Location

Component = tuple[str, ...]  # its subcomponents
Repetition = tuple[Component, ...]
Field = tuple[Repetition, ...]

T = TypeVar("T")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}\Z")
# HL7 table 0211 names for the character sets we read; an empty MSH-18 means the default.
CHARSETS = {
    "ASCII": "ascii",
    **{f"8859/{n}": f"iso8859-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
    "UNICODE UTF-8": "utf-8",
    "GB 18030-2000": "gb18030",
    "BIG-5": "big5",
}
DEFAULT_CHARSET = "utf-8"
_FALLBACK_CHARSET = "latin-1"


@dataclass(frozen=True, slots=True)
class Tolerated:
    """What a sender got wrong that we read anyway; all zero for a clean message."""

    framing_bytes: int = 0
    lf_segment_ends: int = 0
    crlf_segment_ends: int = 0
    blank_lines: int = 0
    undeclared_8bit_text: bool = False

    def __bool__(self) -> bool:
        return any(
            (
                self.framing_bytes,
                self.lf_segment_ends,
                self.crlf_segment_ends,
                self.blank_lines,
                self.undeclared_8bit_text,
            )
        )


CLEAN = Tolerated()


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment; `fields[0]` is field 1 (for MSH: the field separator, then MSH-2)."""

    id: str
    fields: tuple[Field, ...] = ()

    def field(self, number: int) -> Field:
        return self.fields[number - 1] if 0 < number <= len(self.fields) else ()

    def value(self, number: int, component: int = 1, subcomponent: int = 1, rep: int = 1) -> str:
        """One leaf as text, "" when absent: most readers want a string, not a tree walk."""
        repetitions = self.field(number)
        if rep > len(repetitions):
            return ""
        return leaf(repetitions[rep - 1], component, subcomponent)

    @classmethod
    def of(cls, segment_id: str, *fields: Field | str) -> Segment:
        """A segment from plain text or built fields, normalized as `parse` would read it."""
        built = tuple(text_field(f) if isinstance(f, str) else f for f in fields)
        return cls(segment_id, _trim(built))


def leaf(repetition: Repetition, component: int = 1, subcomponent: int = 1) -> str:
    if component > len(repetition):
        return ""
    parts = repetition[component - 1]
    return parts[subcomponent - 1] if subcomponent <= len(parts) else ""


def text_field(value: str) -> Field:
    return (((value,),),) if value else ()


def components(*values: str | Sequence[str]) -> Field:
    """One repetition of components; a component given as a sequence holds subcomponents."""
    return repeated(tuple(_subcomponents(v) for v in values))


def repeated(*repetitions: Repetition) -> Field:
    return _trim(tuple(_trim(r) for r in repetitions))


def _subcomponents(value: str | Sequence[str]) -> Component:
    return _trim((value,) if isinstance(value, str) else tuple(value))


def _trim(parts: tuple[T, ...]) -> tuple[T, ...]:
    end = len(parts)
    while end and not parts[end - 1]:
        end -= 1
    return parts if end == len(parts) else parts[:end]


@dataclass(frozen=True, slots=True)
class Message:
    segments: tuple[Segment, ...]
    tolerated: Tolerated = field(default=CLEAN, compare=False)

    @property
    def header(self) -> Segment:
        return self.segments[0]

    @property
    def delimiters(self) -> Delimiters:
        msh = self.header
        return Delimiters.declared(msh.value(1), msh.value(2))

    @property
    def charset(self) -> str:
        return CHARSETS.get(self.header.value(18), DEFAULT_CHARSET)

    def all(self, segment_id: str) -> list[Segment]:
        return [s for s in self.segments if s.id == segment_id]

    def first(self, segment_id: str) -> Segment | None:
        return next((s for s in self.segments if s.id == segment_id), None)


def parse(data: bytes) -> Message:
    """Read one message (one MLLP frame's payload, framing bytes allowed)."""
    data = _unframe(data)
    framing = data.count(b"\x0b") + data.count(b"\x1c")
    if framing:
        data = data.translate(None, b"\x0b\x1c")
    crlf = data.count(b"\r\n")
    lf = data.count(b"\n") - crlf
    if lf or crlf:
        data = data.replace(b"\r\n", b"\r").replace(b"\n", b"\r")
    leading = len(data) - len(data.lstrip(b"\r"))
    data = data[leading:]
    if not data.startswith(b"MSH") or len(data.split(b"\r", 1)[0]) < 8:
        raise _error(Location(), ErrorCode.segment_sequence, "the message does not start with MSH")
    text, charset, undeclared = _decode(data)
    delimiters = _delimiters(text)
    reader = _SegmentReader(delimiters, charset)
    segments: list[Segment] = []
    blank = leading
    lines = text.split("\r")
    if not lines[-1]:
        lines.pop()
    for index, line in enumerate(lines, start=1):
        if not line.strip():
            blank += 1
            continue
        segments.append(reader.read(line, index))
    tolerated = Tolerated(framing, lf, crlf, blank, undeclared)
    return Message(tuple(segments), tolerated if tolerated else CLEAN)


def _unframe(data: bytes) -> bytes:
    """Drop one intact MLLP frame around the message: that framing is not a fault."""
    if data.startswith(b"\x0b") and data.endswith((b"\x1c\r", b"\x1c")):
        return data[1:].removesuffix(b"\r").removesuffix(b"\x1c")
    return data


def serialize(message: Message, segment_end: str = "\r") -> bytes:
    """Write a message; every segment ends with `segment_end` (CR, as the standard says)."""
    delimiters = message.delimiters
    fs = delimiters.field
    lines: list[str] = []
    for segment in message.segments:
        if segment.id == "MSH":
            head = f"MSH{fs}{delimiters.encoding_characters}"
            rest = segment.fields[2:]
            lines.append(fs.join([head, *(_write_field(f, delimiters) for f in rest)]))
        else:
            fields = (_write_field(f, delimiters) for f in segment.fields)
            lines.append(fs.join([segment.id, *fields]))
    text = segment_end.join(lines) + segment_end
    try:
        return text.encode(message.charset)
    except UnicodeEncodeError:
        raise _error(
            Location("MSH", 1, 1, 18),
            ErrorCode.data_type,
            f"the text holds characters the declared character set ({message.charset}) lacks",
        ) from None


def _write_field(value: Field, d: Delimiters) -> str:
    escape = d.escape_text
    if len(value) == 1 and len(value[0]) == 1 and len(value[0][0]) == 1:
        return escape(value[0][0][0])  # one plain value, the usual field
    return d.repetition.join(
        d.component.join(d.subcomponent.join(escape(s) for s in c) for c in r) for r in value
    )


def _decode(data: bytes) -> tuple[str, str, bool]:
    """Decode in the charset MSH-18 declares (read from the ASCII-safe MSH line first)."""
    msh = data.split(b"\r", 1)[0].decode(_FALLBACK_CHARSET)
    parts = msh.split(msh[3])
    declared = parts[17].split(msh[4])[0] if len(parts) > 17 else ""
    if declared and declared not in CHARSETS:
        raise _error(
            Location("MSH", 1, 1, 18), ErrorCode.table_value_not_found, "unknown character set"
        )
    charset = CHARSETS.get(declared, DEFAULT_CHARSET)
    try:
        return data.decode(charset), charset, False
    except UnicodeDecodeError as exc:
        if not declared:  # undeclared 8-bit text is nearly always ISO 8859-1
            return data.decode(_FALLBACK_CHARSET), _FALLBACK_CHARSET, True
        index = data.count(b"\r", 0, exc.start) + 1
        line_start = data.rfind(b"\r", 0, exc.start) + 1
        segment_id = data[line_start : line_start + 3].decode(_FALLBACK_CHARSET)
        field_number = data.count(msh[3].encode(_FALLBACK_CHARSET), line_start, exc.start)
        if segment_id == "MSH":  # MSH-1 is the separator itself
            field_number += 1
        where = _safe_location(segment_id, index, field_number)
        raise _error(where, ErrorCode.data_type, f"bytes that are not valid {charset}") from None


def _safe_location(segment_id: str, index: int, field_number: int) -> Location:
    if _SEGMENT_ID.match(segment_id):
        return Location(segment_id, index, field=field_number or None)
    return Location(segment_index=index)


def _delimiters(text: str) -> Delimiters:
    fs = text[3]
    end = text.find(fs, 4)
    line_end = text.find("\r")
    stop = [p for p in (end, line_end) if p >= 0]
    encoding = text[4 : min(stop)] if stop else text[4:]
    try:
        return Delimiters.declared(fs, encoding)
    except ValueError as exc:
        raise _error(Location("MSH", 1, 1, 2), ErrorCode.data_type, str(exc)) from None


class _SegmentReader:
    def __init__(self, delimiters: Delimiters, charset: str) -> None:
        self.d = delimiters
        self.charset = charset
        self.occurrences: dict[str, int] = {}
        self.splitters = (delimiters.component, delimiters.repetition, delimiters.subcomponent)

    def read(self, line: str, index: int) -> Segment:
        fs = self.d.field
        segment_id = line[:3]
        if not _SEGMENT_ID.match(segment_id) or (len(line) > 3 and line[3] != fs):
            raise _error(
                Location(segment_index=index),
                ErrorCode.segment_sequence,
                "a segment must start with a 3-character id (A-Z, 0-9) and the field separator",
            )
        occurrence = self.occurrences[segment_id] = self.occurrences.get(segment_id, 0) + 1
        where = Location(segment_id, index, occurrence)
        if segment_id == "MSH":
            encoding = self.d.encoding_characters
            prefix = f"MSH{fs}{encoding}"
            if line == prefix:
                raw = []
            elif line.startswith(prefix + fs):
                raw = line[len(prefix) + 1 :].split(fs)
            else:
                raise _error(where, ErrorCode.data_type, "MSH-2 differs from the first MSH")
            fields = [text_field(fs), text_field(encoding)]
            first = 3
        else:
            raw = line[4:].split(fs) if len(line) > 3 else []
            fields = []
            first = 1
        split = self._split
        escape = self.d.escape
        for number, value in enumerate(raw, start=first):
            if not value:
                fields.append(())
            elif escape in value:
                fields.append(self._escaped(value, where, number))
            else:
                fields.append(split(value, None))
        return Segment(segment_id, _trim(tuple(fields)))

    def _split(self, raw: str, text: Callable[[str], str] | None) -> Field:
        """Split one field into its tree; `text` decodes each leaf when the field has escapes.

        Most fields hold one plain value and most components no subcomponents, so those cases
        skip the splitting altogether: parsing is the hot path of every inbound message.
        """
        component, repetition, subcomponent = self.splitters
        if component not in raw and repetition not in raw and subcomponent not in raw:
            return (((text(raw) if text else raw,),),)
        reps: list[Repetition] = []
        for rep in raw.split(repetition) if repetition in raw else (raw,):
            comps: list[Component] = []
            for comp in rep.split(component) if component in rep else (rep,):
                if subcomponent in comp:
                    subs = comp.split(subcomponent)
                    comps.append(_trim(tuple(map(text, subs) if text else subs)))
                else:
                    comps.append(((text(comp) if text else comp),) if comp else ())
            while comps and not comps[-1]:
                comps.pop()
            reps.append(tuple(comps))
        while reps and not reps[-1]:
            reps.pop()
        return tuple(reps)

    def _escaped(self, raw: str, where: Location, number: int) -> Field:
        charset = self.charset
        unescape = self.d.unescape
        try:
            return self._split(raw, lambda leaf_text: unescape(leaf_text, charset))
        except EscapeError as exc:
            raise _error(
                self._bad_leaf(raw, where, number), ErrorCode.data_type, str(exc)
            ) from None

    def _bad_leaf(self, raw: str, where: Location, number: int) -> Location:
        """Where in the field the undecodable escape is: looked up only once one failed."""
        component, repetition, subcomponent = self.splitters
        for rep_no, rep in enumerate(raw.split(repetition), start=1):
            for comp_no, comp in enumerate(rep.split(component), start=1):
                for sub_no, sub in enumerate(comp.split(subcomponent), start=1):
                    try:
                        self.d.unescape(sub, self.charset)
                    except EscapeError:
                        return Location(
                            where.segment_id,
                            where.segment_index,
                            where.occurrence,
                            number,
                            rep_no,
                            comp_no,
                            sub_no,
                        )
        return Location(where.segment_id, where.segment_index, where.occurrence, number)


def _error(location: Location, code: ErrorCode, message: str) -> Hl7CodecError:
    return Hl7CodecError([Issue(location, code, message)])
