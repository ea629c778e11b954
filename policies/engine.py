"""A pack's tables as JDM decision tables, evaluated by the zen rules engine.

Why zen (GoRules JDM) and not CEL: a pack is a set of decision tables with hit policies, which
JDM models directly (rows, `first` and `collect`), so row order and "which row fired" belong to
the engine rather than to a loop of ours; CEL is an expression language with no tables, and a
Python loop over 5,000 compiled CEL programs was measured 25 times slower than a plain loop.

How the tables are written for zen follows from measurements of zen 2.1: a list of equality
tests ("27447", "27130") is matched in nanoseconds per row, while interval tests ([a..b],
>= a) cost about 0.1 us per row. So a code range is not given to zen as an interval: the range
boundaries of the pack cut the code space into segments, each case line is told which segment
its code falls in (one bisection), and a range row tests for its segment numbers by equality.
Decisions are evaluated through a `ZenEngine` with a static loader, whose per-call cost is a few
microseconds, not through `ZenDecision.evaluate`, which measured 200 us per call.

A table's answer depends only on the values of the columns it reads, and live traffic repeats a
few codes, places and urgencies, so a decision asks `answer`, which remembers the rows fired for
each distinct input of a table (bounded; a reload builds a new engine, so nothing outlives its
pack version). `hits` is the engine's own evaluation, asked on every miss.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

import zen

from policies.code_systems import code_key
from policies.conditions import FIRST_HIT_TABLES, TABLE_COLUMNS, Column, Condition
from policies.errors import PolicyEvaluationError
from policies.pack_schema import TableName
from policies.rules import Rule

SEGMENT = "procedure_segment"
_ROW = "row"
REMEMBERED_INPUTS = 4096  # per table; past it the memory starts afresh


class RuleEngine:
    """One pack's tables loaded into one zen engine; its tables never change once built."""

    def __init__(self, tables: Mapping[TableName, Sequence[Rule]]) -> None:
        cuts = {
            bound
            for rules in tables.values()
            for rule in rules
            for condition in rule.conditions
            for span in condition.code_ranges
            for bound in span
        }
        self._cuts = sorted(cuts)
        self._inputs = {table: self._inputs_of(table, rules) for table, rules in tables.items()}
        content = {
            str(table): self._decision(table, rules) for table, rules in tables.items() if rules
        }
        self._loaded = frozenset(content)
        self._remembered: dict[TableName, dict[tuple[Any, ...], tuple[int, ...]]] = {
            table: {} for table, rules in tables.items() if rules
        }
        self._zen = zen.ZenEngine({"loader": {"type": "static", "content": content}})

    def line_facts(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The engine's input for one line: the column values plus the code's range segment."""
        facts = dict(values)
        code = values.get(Column.procedure)
        facts[SEGMENT] = None if code is None else self._segment(code_key(code))
        return facts

    def answer(self, table: TableName, facts: Mapping[str, Any]) -> tuple[int, ...]:
        """`hits`, remembered per distinct value of the columns the table reads."""
        remembered = self._remembered.get(table)
        if remembered is None:
            return ()
        key = tuple(facts.get(field) for field in self._inputs[table])
        found = remembered.get(key)
        if found is None:
            if len(remembered) >= REMEMBERED_INPUTS:
                remembered.clear()
            found = remembered[key] = tuple(self.hits(table, facts))
        return found

    def hits(self, table: TableName, facts: Mapping[str, Any]) -> list[int]:
        """Positions of the rows that fired, in table order (at most one for a first-hit table)."""
        if table not in self._loaded:
            return []
        try:
            result = self._zen.evaluate(str(table), dict(facts))["result"]
        except RuntimeError:
            raise PolicyEvaluationError(f"the rules engine failed on table {table}") from None
        if isinstance(result, dict):
            return [int(result[_ROW])] if _ROW in result else []
        positions: list[int] = []
        for hit in result:
            position = int(hit[_ROW])
            if position not in positions:
                positions.append(position)
        return positions

    def _segment(self, key: int) -> int | None:
        index = bisect.bisect_right(self._cuts, key) - 1
        return index if 0 <= index < len(self._cuts) - 1 else None

    @staticmethod
    def _inputs_of(table: TableName, rules: Sequence[Rule]) -> list[str]:
        """The fields the table's JDM reads: its used columns, and the segment for ranges."""
        used = {condition.column for rule in rules for condition in rule.conditions}
        inputs = [str(c) for c in TABLE_COLUMNS[table] if c in used]
        if any(condition.code_ranges for rule in rules for condition in rule.conditions):
            inputs.append(SEGMENT)
        return inputs

    def _decision(self, table: TableName, rules: Sequence[Rule]) -> dict[str, Any]:
        inputs = self._inputs[table]
        rows = [row for rule in rules for row in self._rows(rule, inputs)]
        return {
            "nodes": [
                {"id": "request", "type": "inputNode", "name": "request", "position": _ORIGIN},
                {
                    "id": "table",
                    "type": "decisionTableNode",
                    "name": str(table),
                    "position": _ORIGIN,
                    "content": {
                        "hitPolicy": "first" if table in FIRST_HIT_TABLES else "collect",
                        "inputs": [{"id": f, "name": f, "field": f} for f in inputs],
                        "outputs": [{"id": _ROW, "name": _ROW, "field": _ROW}],
                        "rules": rows,
                    },
                },
                {"id": "response", "type": "outputNode", "name": "response", "position": _ORIGIN},
            ],
            "edges": [
                {"id": "in", "sourceId": "request", "targetId": "table", "type": "edge"},
                {"id": "out", "sourceId": "table", "targetId": "response", "type": "edge"},
            ],
        }

    def _rows(self, rule: Rule, inputs: Sequence[str]) -> list[dict[str, str]]:
        """One JDM row per way the rule can match: a code list and a segment list are two."""
        cells = {str(condition.column): condition.unary for condition in rule.conditions}
        procedure = next((t for t in rule.conditions if t.column is Column.procedure), None)
        variants = [cells] if procedure is None else self._procedure_variants(procedure, cells)
        return [
            {
                "_id": f"{rule.id}#{n}",
                **{field: variant.get(field, "") for field in inputs},
                _ROW: str(rule.position),
            }
            for n, variant in enumerate(variants)
        ]

    def _procedure_variants(
        self, condition: Condition, cells: dict[str, str]
    ) -> list[dict[str, str]]:
        variants = []
        if condition.codes:
            codes = ", ".join(f'"{code}"' for code in condition.codes)
            variants.append({**cells, str(Column.procedure): codes})
        if condition.code_ranges:
            segments = [
                str(index)
                for low, high in condition.code_ranges
                for index in range(
                    bisect.bisect_left(self._cuts, low), bisect.bisect_left(self._cuts, high)
                )
            ]
            variants.append({**cells, str(Column.procedure): "", SEGMENT: ", ".join(segments)})
        return variants


_ORIGIN = {"x": 0, "y": 0}
