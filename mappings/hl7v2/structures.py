"""Message structures (which segments, in which order, how often) and the check against them.

The definitions come from hl7apy's tables, read once per version and compiled into an
automaton that is cached, so checking a message costs a dictionary lookup per segment; hl7apy
itself never runs per message (it takes about 21 ms each). hl7apy's validator treats a choice
group as a sequence, so it demands every alternative (crs4/hl7apy#151); our automaton gives a
choice its meaning, one alternative. ORM^O01 is defined here rather than taken from hl7apy:
hl7apy has no ORM for v2.7 and later (the standard withdrew it, EHRs still send it), and one
definition that admits every version's segments (CTD and FT1 arrived in 2.4) serves them all.

Z-segments are site extensions and may appear anywhere.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import hl7apy

from mappings.hl7v2.codec import Message
from mappings.hl7v2.errors import ErrorCode, Hl7StructureError, Issue, Location

Kind = Literal["segment", "sequence", "choice"]
UNBOUNDED = -1


@dataclass(frozen=True, slots=True)
class Element:
    name: str
    min: int
    max: int
    kind: Kind = "segment"
    children: tuple[Element, ...] = ()


def _seg(name: str, min_: int = 1, max_: int = 1) -> Element:
    return Element(name, min_, max_)


def _group(name: str, min_: int, max_: int, *children: Element, kind: Kind = "sequence") -> Element:
    return Element(name, min_, max_, kind, children)


_ORM_O01 = _group(
    "ORM_O01",
    1,
    1,
    _seg("MSH"),
    _seg("NTE", 0, UNBOUNDED),
    _group(
        "PATIENT",
        0,
        1,
        _seg("PID"),
        _seg("PD1", 0),
        _seg("NTE", 0, UNBOUNDED),
        _group("PATIENT_VISIT", 0, 1, _seg("PV1"), _seg("PV2", 0)),
        _group("INSURANCE", 0, UNBOUNDED, _seg("IN1"), _seg("IN2", 0), _seg("IN3", 0)),
        _seg("GT1", 0),
        _seg("AL1", 0, UNBOUNDED),
    ),
    _group(
        "ORDER",
        1,
        UNBOUNDED,
        _seg("ORC"),
        _group(
            "ORDER_DETAIL",
            0,
            1,
            _group(
                "CHOICE",
                1,
                1,
                *(_seg(s) for s in ("OBR", "RQD", "RQ1", "RXO", "ODS", "ODT")),
                kind="choice",
            ),
            _seg("NTE", 0, UNBOUNDED),
            _seg("CTD", 0),
            _seg("DG1", 0, UNBOUNDED),
            _group("OBSERVATION", 0, UNBOUNDED, _seg("OBX"), _seg("NTE", 0, UNBOUNDED)),
        ),
        _seg("FT1", 0, UNBOUNDED),
        _seg("CTI", 0, UNBOUNDED),
        _seg("BLG", 0),
    ),
)
OWN_STRUCTURES = {"ORM_O01": _ORM_O01}

# Versions hl7apy has no tables for, read with the nearest release it has.
_LIBRARY_VERSION = {"2.7.1": "2.7"}


def _from_hl7apy(name: str, reference: tuple[Any, ...], card: tuple[int, int]) -> Element:
    kind, children = reference[0], reference[1]
    return Element(
        name,
        card[0],
        card[1],
        kind,
        tuple(
            _from_hl7apy(child[0], child[1], child[2])
            if child[3] == "GRP"
            else Element(child[0], child[2][0], child[2][1])
            for child in children
        ),
    )


@cache
def definition(structure: str, version: str) -> Element | None:
    """The structure's definition in this version, None where the version does not define it."""
    if structure in OWN_STRUCTURES:
        return OWN_STRUCTURES[structure]
    library = hl7apy.load_library(_LIBRARY_VERSION.get(version, version))
    reference = library.MESSAGES.get(structure)
    return None if reference is None else _from_hl7apy(structure, reference, (1, 1))


class _Nfa:
    """Thompson construction: states are ints, edges labelled by a segment id or epsilon."""

    def __init__(self) -> None:
        self.epsilon: list[list[int]] = []
        self.moves: list[list[tuple[str, int]]] = []

    def state(self) -> int:
        self.epsilon.append([])
        self.moves.append([])
        return len(self.moves) - 1

    def build(self, element: Element, start: int) -> int:
        """Add `element` with its cardinality after `start`; return its end state."""
        entry = self.state()
        self.epsilon[start].append(entry)
        end = self._once(element, entry)
        if element.max == UNBOUNDED:  # hl7apy's cardinalities are 0..1, 1..1, 0..n, 1..n
            self.epsilon[end].append(entry)
        exit_ = self.state()
        self.epsilon[end].append(exit_)
        if element.min == 0:
            self.epsilon[entry].append(exit_)
        return exit_

    def _once(self, element: Element, start: int) -> int:
        if element.kind == "segment":
            end = self.state()
            self.moves[start].append((element.name, end))
            return end
        if element.kind == "sequence":
            current = start
            for child in element.children:
                current = self.build(child, current)
            return current
        end = self.state()
        for child in element.children:
            self.epsilon[self.build(child, start)].append(end)
        return end


State = frozenset[int]


class Automaton:
    """The structure as a lazily built DFA over segment ids."""

    def __init__(self, element: Element) -> None:
        self._nfa = _Nfa()
        origin = self._nfa.state()
        self._final = self._nfa.build(element, origin)
        self.start = self._closure({origin})
        self.labels = frozenset(label for moves in self._nfa.moves for label, _ in moves)
        self._steps: dict[tuple[State, str], State] = {}

    def _closure(self, states: set[int]) -> State:
        pending = list(states)
        seen = set(states)
        while pending:
            for target in self._nfa.epsilon[pending.pop()]:
                if target not in seen:
                    seen.add(target)
                    pending.append(target)
        return frozenset(seen)

    def step(self, state: State, label: str) -> State:
        """The next state; empty when `label` cannot come here."""
        key = (state, label)
        found = self._steps.get(key)
        if found is None:
            targets = {t for s in state for name, t in self._nfa.moves[s] if name == label}
            found = self._steps[key] = self._closure(targets) if targets else frozenset()
        return found

    def accepts(self, state: State) -> bool:
        return self._final in state

    def expected(self, state: State) -> list[str]:
        return sorted({name for s in state for name, _ in self._nfa.moves[s]})

    def shortest_path(self, state: State, until: Callable[[State], bool]) -> list[str] | None:
        """The fewest segments leading from `state` to one where `until(state)` holds."""
        queue: deque[tuple[State, list[str]]] = deque([(state, [])])
        seen = {state}
        while queue:
            current, path = queue.popleft()
            if until(current):
                return path
            for label in self.expected(current):
                following = self.step(current, label)
                if following not in seen:
                    seen.add(following)
                    queue.append((following, [*path, label]))
        return None


@cache
def automaton(structure: str, version: str) -> Automaton | None:
    element = definition(structure, version)
    return None if element is None else Automaton(element)


def check_structure(message: Message, structure: str, version: str) -> None:
    """Raise `Hl7StructureError` at the first segment the structure does not allow here."""
    machine = automaton(structure, version)
    if machine is None:
        raise ValueError(f"{structure} is not defined in v{version}")
    state = machine.start
    occurrences: dict[str, int] = {}
    last = Location()
    for index, segment in enumerate(message.segments, start=1):
        segment_id = segment.id
        occurrences[segment_id] = occurrences.get(segment_id, 0) + 1
        if segment_id.startswith("Z"):
            continue
        where = Location(segment_id, index, occurrences[segment_id])
        following = machine.step(state, segment_id) if segment_id in machine.labels else None
        if not following:
            raise Hl7StructureError([_misplaced(machine, state, structure, where)])
        state, last = following, where
    if not machine.accepts(state):
        path = machine.shortest_path(state, machine.accepts) or machine.expected(state)
        after = f" after {last}" if last.segment_id else ""
        raise Hl7StructureError(
            [
                Issue(
                    Location(path[0]),
                    ErrorCode.segment_sequence,
                    f"{structure} needs {path[0]}{after}",
                )
            ]
        )


def _misplaced(machine: Automaton, state: State, structure: str, where: Location) -> Issue:
    segment_id = where.segment_id or ""
    if segment_id not in machine.labels:
        reason = f"{segment_id} is not a segment of {structure}"
    else:
        missing = machine.shortest_path(state, lambda s: bool(machine.step(s, segment_id)))
        if missing:
            reason = f"{', '.join(missing)} must come before {segment_id}"
        else:
            expected = machine.expected(state)
            allowed = f"one of {', '.join(expected)}" if expected else "the end of the message"
            reason = f"{segment_id} is not allowed here; expected {allowed}"
    return Issue(where, ErrorCode.segment_sequence, reason)
