"""Sets of numbers as sorted half-open intervals, the one shape every rule condition takes.

Codes, places of service, urgencies and thresholds all encode to numbers, so a rule's
condition is a box (one interval set per column) and the load-time checks (which rows overlap,
which row can never fire) reduce to intersecting and subtracting boxes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Span = tuple[float, float]


@dataclass(frozen=True, slots=True)
class IntervalSet:
    """Sorted, disjoint, non-touching spans [low, high)."""

    spans: tuple[Span, ...]

    @classmethod
    def of(cls, spans: Iterable[Span]) -> IntervalSet:
        merged: list[Span] = []
        for low, high in sorted(s for s in spans if s[0] < s[1]):
            if merged and low <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            else:
                merged.append((low, high))
        return cls(tuple(merged))

    @classmethod
    def points(cls, values: Iterable[int]) -> IntervalSet:
        return cls.of((v, v + 1) for v in values)

    def is_empty(self) -> bool:
        return not self.spans

    def __and__(self, other: IntervalSet) -> IntervalSet:
        out: list[Span] = []
        i = j = 0
        a, b = self.spans, other.spans
        while i < len(a) and j < len(b):
            low, high = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
            if low < high:
                out.append((low, high))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet(tuple(out))

    def __sub__(self, other: IntervalSet) -> IntervalSet:
        out: list[Span] = []
        cuts = other.spans
        for low, high in self.spans:
            start = low
            for cut_low, cut_high in cuts:
                if cut_high <= start or cut_low >= high:
                    continue
                if cut_low > start:
                    out.append((start, cut_low))
                start = max(start, cut_high)
                if start >= high:
                    break
            if start < high:
                out.append((start, high))
        return IntervalSet(tuple(out))

    def issubset(self, other: IntervalSet) -> bool:
        return (self - other).is_empty()


Box = tuple[IntervalSet, ...]


def box_is_empty(box: Box) -> bool:
    return any(part.is_empty() for part in box)


def box_intersection(a: Box, b: Box) -> Box:
    return tuple(x & y for x, y in zip(a, b, strict=True))


def box_issubset(a: Box, b: Box) -> bool:
    return all(x.issubset(y) for x, y in zip(a, b, strict=True))


def box_difference(a: Box, b: Box) -> list[Box]:
    """`a` minus `b` as disjoint boxes: peel off, column by column, what lies outside `b`."""
    if box_is_empty(a):
        return []
    if box_is_empty(box_intersection(a, b)):
        return [a]
    pieces: list[Box] = []
    current = list(a)
    for column, (mine, theirs) in enumerate(zip(a, b, strict=True)):
        outside = mine - theirs
        if not outside.is_empty():
            pieces.append((*current[:column], outside, *current[column + 1 :]))
        current[column] = mine & theirs
    return pieces


def uncovered(target: Box, covers: Sequence[Box], limit: int) -> list[Box] | None:
    """What of `target` no box in `covers` contains; None when the pieces exceed `limit`.

    The piece count can grow with every cover, so the caller bounds the work and treats None
    as "could not decide" rather than as an answer.
    """
    remaining = [target]
    for cover in covers:
        remaining = [piece for box in remaining for piece in box_difference(box, cover)]
        if not remaining:
            return []
        if len(remaining) > limit:
            return None
    return remaining
