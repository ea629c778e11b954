"""Load-time checks of a decision table: rows that can never fire, rows that contradict.

In a first-hit table the order of rows is the policy, so two rows that can match the same case
with different outcomes are allowed only when one is strictly narrower and comes first (the
exception before the rule); any other overlap is ambiguous to a reviewer and is refused. A row
whose every case is taken by earlier rows is dead text that misleads whoever reads the pack.
Candidates are paired by sweeping the procedure column, so a 5,000-row table is not compared
row by row with every other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from policies.conditions import FIRST_HIT_TABLES, Column, Vocabulary, describe_box_point
from policies.intervals import (
    Box,
    box_intersection,
    box_is_empty,
    box_issubset,
    uncovered,
)
from policies.pack_schema import TableName
from policies.rules import Rule

CATCH_ALL_TABLES = frozenset({TableName.prior_auth, TableName.routing})
_PIECE_LIMIT = 256
# Proving that many earlier rows jointly cover a row costs time with every row; beyond this
# many candidates (a catch-all after a long list) the check is skipped, not guessed.
_COVER_LIMIT = 64


@dataclass(frozen=True)
class TableProblem:
    rule: Rule | None
    reason: str
    unreachable: bool = False


def check_table(
    table: TableName, rules: Sequence[Rule], vocabulary: Vocabulary
) -> list[TableProblem]:
    boxes = [rule.box(vocabulary) for rule in rules]
    problems: list[TableProblem] = []
    dead: set[int] = set()
    for k, (rule, box) in enumerate(zip(rules, boxes, strict=True)):
        if box_is_empty(box):
            dead.add(k)
            reason = f"row {rule.id} is unreachable: no case meets all its conditions"
            problems.append(TableProblem(rule, reason, unreachable=True))
    earlier: dict[int, list[int]] = {k: [] for k in range(len(rules))}
    for i, j in sorted(_candidate_pairs(rules, boxes)):
        if i in dead or j in dead:
            continue
        both = box_intersection(boxes[i], boxes[j])
        if box_is_empty(both):
            continue
        earlier[j].append(i)
        problem = _pair_problem(table, (rules[i], rules[j]), (boxes[i], boxes[j]), both, vocabulary)
        if problem is not None:
            problems.append(problem)
            if problem.unreachable:
                dead.add(j)
    if table in FIRST_HIT_TABLES:
        covered = _covered_by_several(rules, boxes, earlier, dead)
        dead.update(rules.index(problem.rule) for problem in covered if problem.rule)
        # An overlap with a row that can never fire is noise beside "unreachable".
        problems = [p for p in problems if p.unreachable or rules.index(p.rule) not in dead]
        problems.extend(covered)
    if table in CATCH_ALL_TABLES and not any(not rule.conditions for rule in rules):
        problems.append(
            TableProblem(
                None,
                f"table {table} has no catch-all row: end it with a row whose `when` is empty,"
                " so every case gets an explained answer",
            )
        )
    return problems


def _pair_problem(
    table: TableName,
    rules: tuple[Rule, Rule],
    boxes: tuple[Box, Box],
    both: Box,
    vocabulary: Vocabulary,
) -> TableProblem | None:
    """What is wrong with an earlier and a later row that match some case in common."""
    first, second = rules
    first_box, second_box = boxes
    where = f"{first.id} ({first.source})"
    if table not in FIRST_HIT_TABLES:
        if first_box == second_box and first.same_outcome(second):
            return TableProblem(second, f"row {second.id} repeats row {where}")
        return None
    if box_issubset(second_box, first_box):
        reason = f"row {second.id} is unreachable: every case it matches is taken by {where}"
        return TableProblem(second, reason, unreachable=True)
    if first.same_outcome(second) or box_issubset(first_box, second_box):
        return None
    example = describe_box_point(vocabulary, first.columns, both)
    return TableProblem(
        second,
        f"rows {first.id} and {second.id} overlap with different outcomes (e.g. {example});"
        " make the earlier row the narrower one, or split them",
    )


def _covered_by_several(
    rules: Sequence[Rule], boxes: Sequence[Box], earlier: dict[int, list[int]], dead: set[int]
) -> list[TableProblem]:
    problems = []
    for j, rule in enumerate(rules):
        covers = [i for i in earlier[j] if i not in dead]
        if j in dead or not 2 <= len(covers) <= _COVER_LIMIT:
            continue
        if uncovered(boxes[j], [boxes[i] for i in covers], _PIECE_LIMIT) == []:
            names = ", ".join(rules[i].id for i in covers)
            reason = (
                f"row {rule.id} is unreachable: earlier rows {names} take every case it matches"
            )
            problems.append(TableProblem(rule, reason, unreachable=True))
    return problems


def _candidate_pairs(rules: Sequence[Rule], boxes: Sequence[Box]) -> set[tuple[int, int]]:
    """Pairs of rows whose procedure conditions intersect (all pairs when the table has none)."""
    columns = rules[0].columns if rules else ()
    if Column.procedure not in columns:
        return {(i, j) for j in range(len(rules)) for i in range(j)}
    at = columns.index(Column.procedure)
    spans = sorted((low, high, k) for k, box in enumerate(boxes) for low, high in box[at].spans)
    pairs: set[tuple[int, int]] = set()
    active: list[tuple[float, int]] = []
    for low, high, k in spans:
        active = [(end, other) for end, other in active if end > low]
        pairs.update((min(other, k), max(other, k)) for _, other in active if other != k)
        active.append((high, k))
    return pairs
