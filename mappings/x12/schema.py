"""The vocabulary in which transactions are described: loops, segments, elements, rules.

A transaction is data, not code: one description drives both reading segments into a loop tree
and validating them, so the two cannot disagree. The descriptions themselves live in
`mappings.x12.specs`, written from public summaries of the implementation guides.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

UNBOUNDED = 1 << 30


class Usage(StrEnum):
    required = "R"
    situational = "S"
    not_used = "N"


R, S, N = Usage.required, Usage.situational, Usage.not_used


@dataclass(frozen=True, slots=True)
class Element:
    """A simple data element: `ref` is its data dictionary number, reported in a 999's IK402."""

    ref: str
    kind: str  # AN, ID, DT, TM, N0, N2, R
    min_length: int
    max_length: int
    usage: Usage = R
    codes: frozenset[str] | None = None
    repeat: int = 1


@dataclass(frozen=True, slots=True)
class Composite:
    ref: str
    components: tuple[Element | None, ...]
    usage: Usage = R
    repeat: int = 1


Field = Element | Composite | None


@dataclass(frozen=True, slots=True)
class Rule:
    """An X12 syntax note over element positions.

    kind P: all or none present; R: at least one; C: if the first, then all others;
    E: at most one; L: if the first, then at least one other.
    """

    kind: str
    positions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DateFormat:
    """A date whose format is named by a qualifier element (DTP02 D8/RD8, DMG01, HI0n-3)."""

    qualifier: int
    value: int
    component: int = 0  # inside a composite at `qualifier`, or 0 for simple elements


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    id: str
    name: str
    usage: Usage
    max_use: int
    fields: tuple[Field, ...]
    size: int  # element count of the standard segment; more is "too many data elements"
    rules: tuple[Rule | DateFormat, ...] = ()
    match: int = 0  # element whose code list tells this segment from its same-id siblings

    def matches(self, elements: list[str]) -> bool:
        if elements[0] != self.id:
            return False
        if not self.match:
            return True
        codes = self.fields[self.match - 1]
        value = elements[self.match] if self.match < len(elements) else ""
        return isinstance(codes, Element) and codes.codes is not None and value in codes.codes


@dataclass(frozen=True, slots=True)
class LoopSpec:
    id: str
    name: str
    usage: Usage
    max_repeat: int
    children: tuple[SegmentSpec | LoopSpec, ...]
    # Derived from `children` (never passed, so `dataclasses.replace` recomputes them):
    # segment id -> indices of the children it can start or be, for the reader's lookups
    positions: dict[str, tuple[int, ...]] = field(default_factory=dict, init=False, compare=False)
    # per child, where its run of same-id sibling segments starts: X12 fixes the order of
    # positions, not of the qualified variants at one position (DTP*007 may precede DTP*102)
    run_start: list[int] = field(default_factory=list, init=False, compare=False)
    # indices of the required children, the only ones whose absence is an error
    required: list[int] = field(default_factory=list, init=False, compare=False)
    # per child, the segment description it is read by (a loop's: its trigger)
    targets: list[SegmentSpec] = field(default_factory=list, init=False, compare=False)

    def __post_init__(self) -> None:
        found: dict[str, list[int]] = {}
        self.required.extend(i for i, c in enumerate(self.children) if c.usage is Usage.required)
        for index, child in enumerate(self.children):
            first = child.children[0] if isinstance(child, LoopSpec) else child
            if isinstance(first, SegmentSpec):
                found.setdefault(first.id, []).append(index)
                self.targets.append(first)
            else:
                raise TypeError(f"loop {child.id} must start with a segment")
            previous = self.children[index - 1] if index else None
            same_run = (
                isinstance(child, SegmentSpec)
                and isinstance(previous, SegmentSpec)
                and previous.id == child.id
            )
            self.run_start.append(self.run_start[-1] if same_run else index)
        self.positions.update({key: tuple(value) for key, value in found.items()})

    @property
    def trigger(self) -> SegmentSpec:
        first = self.children[0]
        if not isinstance(first, SegmentSpec):
            raise TypeError(f"loop {self.id} must start with a segment")
        return first


@dataclass(frozen=True, slots=True)
class TransactionSpec:
    """One implementation guide's transaction, e.g. the 278 request of 005010X217."""

    set_id: str
    reference: str
    name: str
    functional_id: str
    root: LoopSpec
    discriminator: tuple[str, int, frozenset[str]] | None = None  # segment id, element, codes
    segment_ids: frozenset[str] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segment_ids", frozenset(s.id for s in _walk(self.root)))


def _walk(loop: LoopSpec) -> Iterator[SegmentSpec]:
    for child in loop.children:
        if isinstance(child, LoopSpec):
            yield from _walk(child)
        else:
            yield child


def _codes(codes: str | Iterable[str] | None) -> frozenset[str] | None:
    if codes is None:
        return None
    return frozenset(codes.split() if isinstance(codes, str) else codes)


def an(ref: str, low: int, high: int, usage: Usage = R, *, repeat: int = 1) -> Element:
    return Element(ref, "AN", low, high, usage, repeat=repeat)


def code(
    ref: str, low: int, high: int, codes: str | Iterable[str] | None = None, usage: Usage = R
) -> Element:
    """An ID element; `codes` as a space-separated string, or None where the list is external."""
    return Element(ref, "ID", low, high, usage, _codes(codes))


def dt(ref: str, usage: Usage = R, length: int = 8) -> Element:
    return Element(ref, "DT", length, length, usage)


def tm(ref: str, usage: Usage = R, low: int = 4, high: int = 8) -> Element:
    return Element(ref, "TM", low, high, usage)


def num(ref: str, low: int, high: int, usage: Usage = R) -> Element:
    return Element(ref, "N0", low, high, usage)


def dec(ref: str, low: int, high: int, usage: Usage = R) -> Element:
    return Element(ref, "R", low, high, usage)


def composite(
    ref: str, *components: Element | None, usage: Usage = R, repeat: int = 1
) -> Composite:
    return Composite(ref, components, usage, repeat)


def segment(
    segment_id: str,
    name: str,
    usage: Usage,
    max_use: int,
    size: int,
    *fields: Field,
    rules: Iterable[Rule | DateFormat] = (),
    match: int = 0,
) -> SegmentSpec:
    if len(fields) > size:
        raise ValueError(f"{segment_id} has {size} elements, not {len(fields)}")
    return SegmentSpec(segment_id, name, usage, max_use, fields, size, tuple(rules), match)


def rule(kind: str, *positions: int) -> Rule:
    return Rule(kind, positions)


def loop(
    loop_id: str, name: str, usage: Usage, max_repeat: int, *children: SegmentSpec | LoopSpec
) -> LoopSpec:
    return LoopSpec(loop_id, name, usage, max_repeat, children)
