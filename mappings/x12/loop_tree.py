"""Reading one transaction's segments into its loop tree, validating as it goes.

The walk is the usual X12 one: a segment belongs to the first place, searching forward from
the current position and then outward through the enclosing loops, where its description
matches; a loop's first segment opens a new instance of it. Counts, required segments and
element checks are judged on the way, so one pass yields both the tree and the IK3/IK4
findings a 999 needs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from mappings.x12.element_checks import check_segment
from mappings.x12.findings import SegmentError
from mappings.x12.schema import LoopSpec, N, R, SegmentSpec, TransactionSpec
from mappings.x12.segments import Segment


@dataclass(slots=True)
class Placed:
    """A segment where it was read: its description and its position in the set (ST = 1)."""

    spec: SegmentSpec | None
    segment: Segment
    position: int


@dataclass(slots=True)
class LoopNode:
    spec: LoopSpec
    items: list[Placed | LoopNode] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.spec.id

    def loops(self, loop_id: str) -> list[LoopNode]:
        """Child loops with `loop_id`, in order."""
        return [i for i in self.items if isinstance(i, LoopNode) and i.spec.id == loop_id]

    def find_loops(self, loop_id: str) -> Iterator[LoopNode]:
        """Loops with `loop_id` anywhere below, depth first, in document order."""
        for item in self.items:
            if isinstance(item, LoopNode):
                if item.spec.id == loop_id:
                    yield item
                yield from item.find_loops(loop_id)

    def segments(self, segment_id: str, qualifier: str | None = None) -> list[Segment]:
        """This loop's own segments with `segment_id` (and first element `qualifier`)."""
        return list(self._matching(segment_id, qualifier))

    def segment(self, segment_id: str, qualifier: str | None = None) -> Segment | None:
        return next(self._matching(segment_id, qualifier), None)

    def _matching(self, segment_id: str, qualifier: str | None) -> Iterator[Segment]:
        for item in self.items:
            if (
                type(item) is Placed
                and item.segment.elements[0] == segment_id
                and (qualifier is None or item.segment.get(1) == qualifier)
            ):
                yield item.segment


@dataclass(slots=True)
class _Frame:
    spec: LoopSpec
    node: LoopNode
    index: int = 0
    counts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.spec.children)


def read_transaction(
    spec: TransactionSpec, segments: Sequence[Segment]
) -> tuple[LoopNode, list[SegmentError]]:
    """The loop tree of one ST..SE and every segment-level finding, in segment order."""
    root = LoopNode(spec.root)
    stack = [_Frame(spec.root, root)]
    errors: list[SegmentError] = []
    stack[0].counts[0] = 1
    root.items.append(Placed(spec.root.trigger, segments[0], 1))
    _check(spec.root.trigger, segments[0], 1, spec.root.id, errors)
    for position, segment in enumerate(segments[1:], start=2):
        elements = segment.elements
        if not _place(stack, segment, position, elements, errors, strict=True) and not _place(
            stack, segment, position, elements, errors, strict=False
        ):
            code = "2" if segment.id in spec.segment_ids else "6"
            errors.append(SegmentError(segment.id, position, code, stack[-1].spec.id))
            stack[-1].node.items.append(Placed(None, segment, position))
    end = len(segments) + 1
    while stack:
        _close(stack.pop(), end, errors)
    errors.sort(key=lambda e: e.position)
    return root, errors


def _place(
    stack: list[_Frame],
    segment: Segment,
    position: int,
    elements: list[str],
    errors: list[SegmentError],
    *,
    strict: bool,
) -> bool:
    """Put `segment` at the first place it fits; `strict` also requires its qualifier to match."""
    segment_id = elements[0]
    for depth in range(len(stack) - 1, -1, -1):
        frame = stack[depth]
        spec = frame.spec
        candidates = spec.positions.get(segment_id)
        if candidates is None:
            continue
        children, targets = spec.children, spec.targets
        # a loop's first segment opens a new loop, never repeats; same-id siblings go any order
        start = spec.run_start[frame.index] or 1
        for index in candidates:
            if index < start:
                continue
            target = targets[index]
            if strict and target.match and not target.matches(elements):
                continue
            child = children[index]
            while len(stack) > depth + 1:
                _close(stack.pop(), position, errors)
            if index > frame.index:
                _skip_to(frame, index, position, errors)
            frame.counts[index] += 1
            if isinstance(child, LoopSpec):
                if frame.counts[index] > child.max_repeat:
                    errors.append(SegmentError(segment.id, position, "4", child.id))
                node = LoopNode(child)
                frame.node.items.append(node)
                inner = _Frame(child, node)
                inner.counts[0] = 1
                stack.append(inner)
                frame = inner
            elif frame.counts[index] > child.max_use:
                errors.append(SegmentError(segment.id, position, "5", frame.spec.id))
            frame.node.items.append(Placed(target, segment, position))
            _check(target, segment, position, frame.spec.id, errors)
            return True
    return False


def _skip_to(frame: _Frame, index: int, position: int, errors: list[SegmentError]) -> None:
    """Moving forward past children never seen: the required ones among them are missing."""
    counts = frame.counts
    for passed in frame.spec.required:
        if frame.index < passed < index and counts[passed] == 0:
            _missing(frame.spec.children[passed], frame.spec.id, position, errors)
    frame.index = index


def _close(frame: _Frame, position: int, errors: list[SegmentError]) -> None:
    for index in frame.spec.required:
        if index > frame.index and frame.counts[index] == 0:
            _missing(frame.spec.children[index], frame.spec.id, position, errors)


def _missing(
    child: SegmentSpec | LoopSpec, loop_id: str, position: int, errors: list[SegmentError]
) -> None:
    if child.usage is not R:
        return
    if isinstance(child, LoopSpec):
        errors.append(SegmentError(child.trigger.id, position, "3", child.id))
    else:
        errors.append(SegmentError(child.id, position, "3", loop_id))


def _check(
    spec: SegmentSpec, segment: Segment, position: int, loop_id: str, errors: list[SegmentError]
) -> None:
    if spec.usage is N:
        errors.append(SegmentError(segment.id, position, "I4", loop_id))
        return
    problems = check_segment(spec, segment)
    if problems:
        errors.append(SegmentError(segment.id, position, "8", loop_id, problems))
