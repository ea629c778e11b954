"""Segments: reading them from bytes or a stream, and writing them back byte for byte.

A segment keeps its elements exactly as they arrived (raw text, release sequences and inner
separators intact) plus any line break that followed its terminator, so writing it back
reproduces the input. Values are decoded as Latin-1, which maps every byte to one character:
splitting the text is splitting the bytes, and no input can fail to decode. Mappings that want
UTF-8 text ask for it with `text()`.

Reading is a tight loop over `bytes.split` on the segment terminator; a stream is read in
chunks with one unfinished segment carried over, so memory stays bounded by the chunk size and
the longest segment, however large the file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import AnyStr, BinaryIO

from mappings.x12.delimiters import ISA_LENGTH, Delimiters, isa_elements, read_delimiters
from mappings.x12.errors import Location, X12Error

MAX_SEGMENT_LENGTH = 1 << 20
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_KNOWN_IDS: set[str] = set()


class Segment:
    """One segment; `elements[0]` is the segment id, so `elements[n]` is element n."""

    __slots__ = ("delimiters", "elements", "suffix")

    def __init__(self, elements: list[str], delimiters: Delimiters, suffix: str = "") -> None:
        self.elements = elements
        self.delimiters = delimiters
        self.suffix = suffix

    @property
    def id(self) -> str:
        return self.elements[0]

    def __len__(self) -> int:
        """The number of elements present, not counting the id."""
        return len(self.elements) - 1

    def __repr__(self) -> str:  # values may be PHI: show only the shape
        return f"Segment({self.id!r}, {len(self)} elements)"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Segment)
            and self.elements == other.elements
            and self.delimiters == other.delimiters
            and self.suffix == other.suffix
        )

    __hash__ = None  # type: ignore[assignment]

    def get(self, index: int) -> str:
        """Element `index` as a value ("" when absent), release sequences resolved."""
        if index >= len(self.elements):
            return ""
        raw = self.elements[index]
        release = self.delimiters.release
        return raw if release is None or release not in raw else _unescape(raw, release)

    def values(self, size: int) -> list[str]:
        """Elements 0..`size` as values ("" where absent): one call for readers taking many."""
        elements = self.elements
        release = self.delimiters.release
        if release is not None:
            return [self.get(index) for index in range(size + 1)]
        if len(elements) > size:
            return elements[: size + 1]
        return elements + [""] * (size + 1 - len(elements))

    def repetitions(self, index: int) -> list[str]:
        """The repeats of element `index`, each still raw (its components unsplit)."""
        raw = self.elements[index] if index < len(self.elements) else ""
        if not raw:
            return []
        separator = self.delimiters.repetition
        if separator is None:
            return [raw]
        return _split(raw, separator, self.delimiters.release)

    def components(self, index: int, repeat: int = 0) -> list[str]:
        """The component values of element `index` (of its `repeat`-th repetition)."""
        repeats = self.repetitions(index)
        if repeat >= len(repeats):
            return []
        release = self.delimiters.release
        parts = _split(repeats[repeat], self.delimiters.component, release)
        return parts if release is None else [_unescape(p, release) for p in parts]

    def component(self, index: int, component: int, repeat: int = 0) -> str:
        parts = self.components(index, repeat)
        return parts[component - 1] if 0 < component <= len(parts) else ""

    def text(self, index: int) -> str:
        """Element `index` as human text: UTF-8 where the bytes are UTF-8, else Latin-1."""
        value = self.get(index)
        if value.isascii():
            return value
        raw = value.encode("latin-1")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return value

    def to_text(self) -> str:
        d = self.delimiters
        return d.element.join(self.elements) + d.segment + self.suffix

    def to_bytes(self) -> bytes:
        return self.to_text().encode("latin-1")


Value = str | Sequence[str] | None


def build(segment_id: str, *elements: Value, delimiters: Delimiters) -> Segment:
    """A new segment from values; a sequence is a composite. Trailing empty elements are dropped.

    Values travel as UTF-8. A value holding a delimiter is escaped with the release character
    if the partners use one, and refused otherwise: sending it would corrupt the structure.
    """
    raw = [segment_id]
    for position, element in enumerate(elements, start=1):
        if element is None or isinstance(element, str):
            raw.append(_encode(element or "", delimiters, segment_id, position))
            continue
        parts = [_encode(c, delimiters, segment_id, position) for c in element]
        while parts and not parts[-1]:
            parts.pop()
        raw.append(delimiters.component.join(parts))
    while len(raw) > 1 and not raw[-1]:
        raw.pop()
    return Segment(raw, delimiters)


def _encode(value: str, delimiters: Delimiters, segment_id: str, position: int) -> str:
    wire = value if value.isascii() else value.encode("utf-8").decode("latin-1")
    if not any(c in wire for c in delimiters.all):
        return wire
    if delimiters.release is None:
        raise X12Error(
            "a value contains a delimiter and no release character is agreed",
            Location(None, segment_id, position),
        )
    return "".join(delimiters.release + c if c in delimiters.all else c for c in wire)


def serialize(segments: Iterable[Segment]) -> bytes:
    return "".join(s.to_text() for s in segments).encode("latin-1")


def parse_segments(data: bytes, *, release: str | None = None) -> list[Segment]:
    """Every segment of `data` (one or more interchanges), in order."""
    return list(iter_segments(io.BytesIO(data), release=release, chunk_size=max(len(data), 1)))


def iter_segments(
    stream: BinaryIO,
    *,
    release: str | None = None,
    chunk_size: int = 1 << 16,
    max_segment_length: int = MAX_SEGMENT_LENGTH,
) -> Iterator[Segment]:
    """The segments of a binary stream, one at a time, in bounded memory.

    A stream may hold several interchanges back to back; each one's ISA sets its delimiters.
    """
    reader = _Reader(stream, release, chunk_size, max_segment_length)
    yield from reader.segments()


class _Reader:
    def __init__(self, stream: BinaryIO, release: str | None, chunk: int, limit: int) -> None:
        self.stream = stream
        self.release = release
        self.chunk = chunk
        self.limit = limit
        self.buffer = b""
        self.eof = False
        self.position = 0

    def _fill(self, size: int) -> None:
        while len(self.buffer) < size and not self.eof:
            data = self.stream.read(self.chunk)
            if not data:
                self.eof = True
            self.buffer += data

    def segments(self) -> Iterator[Segment]:
        self._fill(ISA_LENGTH)
        if not self.buffer:
            raise X12Error("no data: an interchange starts with an ISA segment", Location(1))
        while self.buffer:
            isa = self._interchange_header()
            yield from self._interchange(isa)

    def _interchange_header(self) -> Segment:
        self._fill(ISA_LENGTH)
        self.position += 1
        try:
            delimiters = read_delimiters(self.buffer[:ISA_LENGTH], release=self.release)
        except X12Error as exc:
            where = Location(self.position, *_tail(exc.location))
            raise X12Error(exc.problem, where, ta1_code=exc.ta1_code) from None
        isa = Segment(isa_elements(self.buffer), delimiters)
        self.buffer = self.buffer[ISA_LENGTH:]
        return isa

    def _interchange(self, isa: Segment) -> Iterator[Segment]:
        """Segments after `isa` up to the start of the next ISA (left in the buffer)."""
        d = isa.delimiters
        terminator = d.segment.encode("latin-1")
        release = d.release.encode("latin-1") if d.release is not None else None
        blank = "".join(c for c in "\r\n" if c not in d.all).encode("latin-1")
        pending = isa
        while True:
            if not self.eof:
                data = self.stream.read(self.chunk)
                self.eof = not data
                self.buffer += data
            pieces = self.buffer.split(terminator)
            if release is not None and release in self.buffer:
                pieces = _rejoin(pieces, terminator, release)
            self.buffer = pieces.pop()
            for index, raw in enumerate(pieces):
                piece = raw
                if blank and raw[:1] and raw[:1] in blank:
                    piece = raw.lstrip(blank)
                    pending.suffix += raw[: len(raw) - len(piece)].decode("latin-1")
                if piece[:3] == b"ISA":
                    yield pending
                    self.buffer = terminator.join([piece, *pieces[index + 1 :], self.buffer])
                    return
                yield pending
                self.position += 1
                pending = self._segment(piece, d)
            rest = self.buffer.lstrip(blank) if blank else self.buffer
            if self.eof or rest[:3] == b"ISA":
                break
            if len(self.buffer) > self.limit:
                raise X12Error(
                    f"a segment is longer than {self.limit} bytes or lacks its terminator",
                    Location(self.position + 1),
                )
        pending.suffix += self.buffer[: len(self.buffer) - len(rest)].decode("latin-1")
        self.buffer = rest
        yield pending
        if rest and rest[:3] != b"ISA":
            raise X12Error("the last segment has no terminator", Location(self.position + 1))

    def _segment(self, piece: bytes, d: Delimiters) -> Segment:
        text = piece.decode("latin-1")
        elements = text.split(d.element)
        segment_id = elements[0]
        if segment_id not in _KNOWN_IDS:
            if not _SEGMENT_ID.fullmatch(segment_id):
                problem = "an empty segment" if not piece else "not a segment id"
                raise X12Error(problem, Location(self.position))
            _KNOWN_IDS.add(segment_id)
        if d.release is not None and d.release in text:
            elements = _split(text, d.element, d.release)
            _check_release(elements, d, self.position)
        return Segment(elements, d)


def _tail(location: Location) -> tuple[str | None, int | None, int | None]:
    return location.segment_id, location.element, location.component


def _released(piece: AnyStr, release: AnyStr) -> bool:
    """Whether `piece` ends in an odd run of release characters (its last one escapes)."""
    return (len(piece) - len(piece.rstrip(release))) % 2 == 1


def _rejoin(pieces: list[bytes], separator: bytes, release: bytes) -> list[bytes]:
    merged: list[bytes] = []
    for piece in pieces:
        if merged and _released(merged[-1], release):
            merged[-1] += separator + piece
        else:
            merged.append(piece)
    return merged


def _split(raw: str, separator: str, release: str | None) -> list[str]:
    parts = raw.split(separator)
    if release is None or release not in raw:
        return parts
    merged: list[str] = []
    for part in parts:
        if merged and _released(merged[-1], release):
            merged[-1] += separator + part
        else:
            merged.append(part)
    return merged


def _unescape(raw: str, release: str) -> str:
    out: list[str] = []
    escaped = False
    for char in raw:
        if escaped or char != release:
            out.append(char)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def _check_release(elements: list[str], d: Delimiters, position: int) -> None:
    """A release character may only precede a delimiter or itself; anything else is ambiguous."""
    specials = d.all
    for number, raw in enumerate(elements):
        escaped = False
        for char in raw:
            if escaped:
                if char not in specials:
                    raise X12Error(
                        "a release character must precede a delimiter",
                        Location(position, elements[0], number),
                    )
                escaped = False
            elif char == d.release:
                escaped = True
        if escaped:
            raise X12Error(
                "a release character ends the element", Location(position, elements[0], number)
            )
