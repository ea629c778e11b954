"""A row's `when`, compiled twice: into the rules engine's unary tests, and into a box of
number intervals for the load-time checks.

Both come from the same parsed condition, so the engine and the checks cannot disagree about
what a row matches; the property tests hold them to that. Every column has a numeric domain
that includes "no value" (a line without a place of service, a case without a dollar amount),
because a condition like "not office" must say whether it matches a line that names no place.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from canonical.cases import CaseType, Urgency
from policies.code_systems import (
    CODE_SYSTEMS,
    KEY_LIMIT,
    NO_CODE,
    code_entry_keys,
    code_of_key,
    describe_keys,
)
from policies.intervals import IntervalSet
from policies.pack_schema import Excluding, NumberRange, TableName, When

Loc = tuple[str | int, ...]
NULL_NUMBER = -math.inf
_LOWEST = -sys.float_info.max


class Column(StrEnum):
    case_type = "case_type"
    urgency = "urgency"
    procedure = "procedure"
    place_of_service = "place_of_service"
    drug_class = "drug_class"
    units = "units"
    has_drug = "has_drug"
    auth_required = "auth_required"
    amount = "amount"
    confidence = "confidence"
    missing_documents = "missing_documents"
    missing_fields = "missing_fields"


C = Column
_LINE = (C.case_type, C.urgency, C.procedure, C.place_of_service, C.drug_class, C.units, C.has_drug)
_CASE = (C.case_type, C.urgency, C.has_drug, C.auth_required)
TABLE_COLUMNS: dict[TableName, tuple[Column, ...]] = {
    TableName.prior_auth: _LINE,
    TableName.documents: (*_LINE, C.auth_required),
    TableName.human_review: (
        *_LINE,
        C.auth_required,
        C.amount,
        C.confidence,
        C.missing_documents,
        C.missing_fields,
    ),
    TableName.routing: _CASE,
    TableName.clocks: _CASE,
}
FIRST_HIT_TABLES = frozenset({TableName.prior_auth, TableName.routing, TableName.clocks})
NUMBER_COLUMNS = frozenset({C.units, C.amount, C.confidence, C.missing_documents, C.missing_fields})
_ENUMS: dict[Column, tuple[str, ...]] = {
    C.case_type: tuple(CaseType),
    C.urgency: tuple(Urgency),
}


class ConditionError(ValueError):
    def __init__(self, loc: Loc, reason: str) -> None:
        super().__init__(reason)
        self.loc = loc


@dataclass(frozen=True)
class Condition:
    """One column's condition in both compiled forms, and in words."""

    column: Column
    space: IntervalSet
    text: str
    unary: str = ""
    codes: tuple[str, ...] = ()
    code_ranges: tuple[tuple[int, int], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Vocabulary:
    """What the columns of one pack range over; drug classes are the pack's own names."""

    drug_classes: tuple[str, ...]

    def domain(self, column: Column) -> IntervalSet:
        if column in NUMBER_COLUMNS:
            return IntervalSet(((NULL_NUMBER, math.inf),))
        if column is C.procedure:
            return IntervalSet(((NO_CODE, KEY_LIMIT),))
        if column is C.place_of_service:
            return IntervalSet(((-1, 100),))
        if column is C.drug_class:
            return IntervalSet(((-1, len(self.drug_classes)),))
        if column in (C.has_drug, C.auth_required):
            return IntervalSet(((0, 2),))
        return IntervalSet(((0, len(_ENUMS[column])),))

    def decode(self, column: Column, point: float) -> Any:
        """The fact value a point of the domain stands for (None: the case has no value)."""
        if column in NUMBER_COLUMNS:
            return None if point == NULL_NUMBER else point
        number = int(point)
        if column in (C.has_drug, C.auth_required):
            return bool(number)
        if column in _ENUMS:
            return _ENUMS[column][number]
        if number < 0:
            return None
        if column is C.procedure:
            return code_of_key(number)
        if column is C.place_of_service:
            return f"{number:02d}"
        return self.drug_classes[number]

    def compile(self, when: When, table: TableName, loc: Loc) -> tuple[Condition, ...]:
        conditions: list[Condition] = []
        allowed = TABLE_COLUMNS[table]
        for name in when.model_fields_set:
            column = Column(name)
            value = getattr(when, name)
            if value is None:
                continue
            where = (*loc, name)
            if column not in allowed:
                shown = ", ".join(allowed)
                raise ConditionError(where, f"column '{name}' is not used by {table} ({shown})")
            conditions.append(self._condition(column, value, where))
        return tuple(sorted(conditions, key=lambda t: allowed.index(t.column)))

    def _condition(self, column: Column, value: Any, loc: Loc) -> Condition:
        if column is C.procedure:
            return _procedure_condition(value, loc)
        if isinstance(value, NumberRange):
            return _number_condition(column, value)
        if isinstance(value, bool):
            point = IntervalSet.points([int(value)])
            return Condition(column, point, f"{column} is {str(value).lower()}", str(value).lower())
        excluded = isinstance(value, Excluding)
        entries = value.values if isinstance(value, Excluding) else value
        labels = [self._label(column, entry, (*loc, i)) for i, entry in enumerate(entries)]
        chosen = IntervalSet.points(number for number, _ in labels)
        names = ", ".join(label for _, label in labels)
        quoted = ", ".join(f'"{label}"' for _, label in labels)
        if excluded:
            space = self.domain(column) - chosen
            return Condition(column, space, f"{column} not in {names}", f"not in [{quoted}]")
        return Condition(column, chosen, f"{column} in {names}", quoted)

    def _label(self, column: Column, entry: Any, loc: Loc) -> tuple[int, str]:
        if column is C.place_of_service:
            text = _place_of_service(entry, loc)
            return int(text), text
        choices = self.drug_classes if column is C.drug_class else _ENUMS[column]
        if not isinstance(entry, str) or entry not in choices:
            kind = "drug class" if column is C.drug_class else str(column)
            raise ConditionError(
                loc, f"unknown {kind} {entry!r} (known: {', '.join(choices) or 'none declared'})"
            )
        return choices.index(entry), entry


def _place_of_service(entry: Any, loc: Loc) -> str:
    if isinstance(entry, int) and not isinstance(entry, bool) and 10 <= entry <= 99:
        return str(entry)
    if isinstance(entry, str) and len(entry) == 2 and entry.isdigit():
        return entry
    raise ConditionError(
        loc, f"place of service {entry!r} is not a 2-digit code (quote codes like '01')"
    )


def _procedure_condition(systems: dict[str, list[Any]], loc: Loc) -> Condition:
    spans: list[tuple[int, int]] = []
    for system, entries in systems.items():
        if system not in CODE_SYSTEMS:
            known = ", ".join(CODE_SYSTEMS)
            raise ConditionError((*loc, system), f"unknown code system '{system}' (known: {known})")
        for i, entry in enumerate(entries):
            try:
                spans.append(code_entry_keys(system, entry))
            except ValueError as exc:
                raise ConditionError((*loc, system, i), str(exc)) from None
    space = IntervalSet.of(spans)
    ranges = [(int(low), int(high)) for low, high in space.spans]
    singles = tuple(code_of_key(low) for low, high in ranges if high - low == 1)
    wide = tuple((low, high) for low, high in ranges if high - low > 1)
    words = ", ".join(describe_keys(low, high) for low, high in ranges)
    return Condition(C.procedure, space, f"procedure in {words}", codes=singles, code_ranges=wide)


def _number_condition(column: Column, bounds: NumberRange) -> Condition:
    low = _LOWEST if bounds.at_least is None else bounds.at_least
    high = math.inf if bounds.below is None else bounds.below
    words: list[str] = []
    if bounds.at_least is not None:
        words.append(f">= {_number(bounds.at_least)}")
    if bounds.below is not None:
        words.append(f"< {_number(bounds.below)}")
    if bounds.at_least is not None and bounds.below is not None:
        unary = f"[{_number(bounds.at_least)}..{_number(bounds.below)})"
    else:
        unary = words[0]
    space = IntervalSet(((low, high),))
    return Condition(column, space, f"{column} {' and '.join(words)}", unary)


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def describe_box_point(
    vocabulary: Vocabulary, columns: Sequence[Column], box: Sequence[IntervalSet]
) -> str:
    """One case a box contains, in words, naming only the columns the box constrains."""
    parts = []
    for column, space in zip(columns, box, strict=True):
        if space == vocabulary.domain(column):
            continue
        value = vocabulary.decode(column, _representative(column, space))
        parts.append(f"{column} {'(none)' if value is None else _shown(value)}")
    return ", ".join(parts) or "any case"


def _representative(column: Column, space: IntervalSet) -> float:
    low, high = space.spans[0]
    if column in NUMBER_COLUMNS and low == _LOWEST:
        return high / 2 if high > 0 else high - 1
    return low


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return _number(value)
    return str(value)
