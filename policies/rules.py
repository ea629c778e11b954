"""A compiled rule: one table row with its conditions, outcome and place in the pack file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policies.conditions import TABLE_COLUMNS, Column, Condition, Vocabulary
from policies.intervals import Box
from policies.pack_schema import TableName


@dataclass(frozen=True)
class Rule:
    id: str
    table: TableName
    position: int
    line: int | None
    source: str
    conditions: tuple[Condition, ...]
    then: Any
    why: str

    @property
    def columns(self) -> tuple[Column, ...]:
        return TABLE_COLUMNS[self.table]

    def box(self, vocabulary: Vocabulary) -> Box:
        """The row's conditions as one interval set per column of its table."""
        by_column = {condition.column: condition.space for condition in self.conditions}
        return tuple(
            by_column[column] & vocabulary.domain(column)
            if column in by_column
            else vocabulary.domain(column)
            for column in self.columns
        )

    def same_outcome(self, other: Rule) -> bool:
        return bool(self.then == other.then)
