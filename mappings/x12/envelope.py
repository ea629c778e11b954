"""Interchanges, functional groups and transaction sets: the envelope structure of X12.

Reading is lenient on purpose: a missing trailer or a stray segment is recorded, not raised,
so that the interchange can still be answered with the TA1 or 999 it earns and kept as it
arrived. Each interchange keeps every segment in order, so writing it back is byte for byte.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from mappings.x12.delimiters import Delimiters
from mappings.x12.segments import Segment, iter_segments, serialize


@dataclass(slots=True)
class TransactionSet:
    """ST .. SE; `position` is the ST's segment position in the stream (first ISA = 1)."""

    segments: list[Segment]
    position: int
    closed: bool = False

    @property
    def header(self) -> Segment:
        return self.segments[0]

    @property
    def trailer(self) -> Segment | None:
        return self.segments[-1] if self.closed else None

    @property
    def set_id(self) -> str:
        return self.header.get(1)

    @property
    def control_number(self) -> str:
        return self.header.get(2)

    @property
    def reference(self) -> str:
        return self.header.get(3)


@dataclass(slots=True)
class FunctionalGroup:
    header: Segment
    position: int
    transactions: list[TransactionSet] = field(default_factory=list)
    trailer: Segment | None = None

    @property
    def functional_id(self) -> str:
        return self.header.get(1)

    @property
    def control_number(self) -> str:
        return self.header.get(6)

    @property
    def version(self) -> str:
        return self.header.get(8)


@dataclass(slots=True)
class Interchange:
    header: Segment
    position: int
    segments: list[Segment] = field(default_factory=list)
    groups: list[FunctionalGroup] = field(default_factory=list)
    acknowledgments: list[Segment] = field(default_factory=list)  # TA1s it carries
    trailer: Segment | None = None
    # (position, segment id, TA1 code) of segments where the structure breaks
    stray: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def delimiters(self) -> Delimiters:
        return self.header.delimiters

    @property
    def control_number(self) -> str:
        return self.header.get(13)

    @property
    def sender(self) -> tuple[str, str]:
        """(qualifier, id) of the sender, id without its padding."""
        return self.header.get(5), self.header.get(6).rstrip()

    @property
    def receiver(self) -> tuple[str, str]:
        return self.header.get(7), self.header.get(8).rstrip()

    @property
    def usage(self) -> str:
        """ISA15: P production, T test, I information."""
        return self.header.get(15)

    def transactions(self) -> Iterator[tuple[FunctionalGroup, TransactionSet]]:
        for group in self.groups:
            for transaction in group.transactions:
                yield group, transaction

    def to_bytes(self) -> bytes:
        return serialize(self.segments)


def parse_interchanges(data: bytes, *, release: str | None = None) -> list[Interchange]:
    """Every interchange in `data`; raises `X12Error` only where segments cannot be read."""
    segments = iter_segments(io.BytesIO(data), release=release, chunk_size=len(data) or 1)
    return list(read_interchanges(segments))


def read_interchanges(segments: Iterable[Segment]) -> Iterator[Interchange]:
    """Group a stream of segments into interchanges, yielding each one when it is complete."""
    current: _Builder | None = None
    for position, segment in enumerate(segments, start=1):
        if segment.id == "ISA":
            if current is not None:
                yield current.finish()
            current = _Builder(Interchange(segment, position, [segment]))
        elif current is not None:
            current.add(segment, position)
    if current is not None:
        yield current.finish()


class _Builder:
    def __init__(self, interchange: Interchange) -> None:
        self.interchange = interchange
        self.group: FunctionalGroup | None = None
        self.transaction: TransactionSet | None = None

    def add(self, segment: Segment, position: int) -> None:
        ic = self.interchange
        ic.segments.append(segment)
        sid = segment.id
        if ic.trailer is not None:
            ic.stray.append((position, sid, "022"))
        elif self.transaction is not None and sid not in ("ST", "GS", "GE", "IEA"):
            self.transaction.segments.append(segment)
            if sid == "SE":
                self.transaction.closed = True
                self.transaction = None
        elif sid == "ST":
            self.transaction = None
            if self.group is None:
                ic.stray.append((position, sid, "024"))
                return
            self.transaction = TransactionSet([segment], position)
            self.group.transactions.append(self.transaction)
        elif sid == "GS":
            self.transaction = None
            self.group = FunctionalGroup(segment, position)
            ic.groups.append(self.group)
        elif sid == "GE":
            self.transaction = None
            if self.group is None:
                ic.stray.append((position, sid, "024"))
                return
            self.group.trailer = segment
            self.group = None
        elif sid == "IEA":
            self.transaction = self.group = None
            ic.trailer = segment
        elif sid == "TA1" and not ic.groups:
            ic.acknowledgments.append(segment)
        else:
            ic.stray.append((position, sid, "024"))

    def finish(self) -> Interchange:
        return self.interchange
