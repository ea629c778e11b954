"""The engine and the load-time checks read the same conditions: hold them to each other.

Random tables are compiled for zen and as boxes; for random cases, the rows zen fires must be
exactly the rows whose boxes contain the case, and what the checks accept must be safe.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from canonical.cases import CaseType, Urgency
from policies import engine as engine_module
from policies.code_systems import NO_CODE, code_key
from policies.conditions import TABLE_COLUMNS, Column, Vocabulary
from policies.engine import RuleEngine
from policies.intervals import (
    Box,
    IntervalSet,
    box_intersection,
    box_is_empty,
    box_issubset,
)
from policies.pack_schema import HumanReviewThen, PriorAuthThen, TableName, When
from policies.rules import Rule
from policies.table_checks import check_table

CLASSES = ("tnf", "vegf")
VOCABULARY = Vocabulary(CLASSES)
SINGLES = ["27447", "27130", "70553", "72148", "J1745", "J9035", "0042T", "97110"]
RANGES = ["27000-27899", "70540-70553", "J0000-J8999", "J9000-J9999", "0001T-0999T"]
PLACES = ["11", "22", "23", "24"]


def _systems(entries: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for entry in entries:
        grouped.setdefault("hcpcs" if entry[0].isalpha() else "cpt", []).append(entry)
    return grouped


def _choice(values: list[str]) -> st.SearchStrategy[Any]:
    chosen = st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True)
    return st.one_of(chosen, chosen.map(lambda v: {"not": v}))


def _bounds(low: float, high: float) -> st.SearchStrategy[dict[str, float]]:
    number = st.sampled_from([low, (low + high) / 2, high])
    return st.one_of(
        number.map(lambda n: {"at_least": n}),
        number.map(lambda n: {"below": n}),
        st.tuples(number, number)
        .filter(lambda pair: pair[0] < pair[1])
        .map(lambda pair: {"at_least": pair[0], "below": pair[1]}),
    )


LINE_CONDITIONS: dict[str, st.SearchStrategy[Any]] = {
    "procedure": st.lists(st.sampled_from(SINGLES + RANGES), min_size=1, max_size=3).map(_systems),
    "place_of_service": _choice(PLACES),
    "urgency": _choice(list(Urgency)),
    "drug_class": _choice(list(CLASSES)),
    "units": _bounds(1, 13),
    "has_drug": st.booleans(),
}
# Few values, so that rows overlap often and random cases land in the overlaps.
DENSE_CONDITIONS: dict[str, st.SearchStrategy[Any]] = {
    "procedure": st.lists(
        st.sampled_from(["27447", "70553", "27000-27899"]), min_size=1, max_size=2
    ).map(_systems),
    "place_of_service": _choice(["11", "22"]),
    "urgency": _choice(list(Urgency)),
    "units": _bounds(1, 13),
}
DENSE_CASES = st.fixed_dictionaries(
    {
        "procedure": st.sampled_from(["27447", "70553", "27500", None]),
        "place_of_service": st.sampled_from(["11", "22", "23", None]),
        "urgency": st.sampled_from([u.value for u in Urgency]),
        "units": st.sampled_from([1.0, 7.0, 13.0, None]),
    }
)
REVIEW_CONDITIONS = {
    **LINE_CONDITIONS,
    "amount": _bounds(1000, 20000),
    "confidence": _bounds(0.5, 0.9),
    "missing_documents": _bounds(0, 2),
}


def _table(table: TableName, conditions: dict[str, st.SearchStrategy[Any]]) -> Any:
    when = st.fixed_dictionaries({}, optional=conditions)
    outcome = st.booleans() if table is TableName.prior_auth else st.sampled_from(["a", "b"])
    return st.lists(st.tuples(when, outcome), min_size=1, max_size=7).map(
        lambda rows: _rules(table, rows)
    )


def _rules(table: TableName, rows: list[tuple[dict[str, Any], Any]]) -> list[Rule]:
    rules = []
    for position, (when, outcome) in enumerate(rows):
        conditions = VOCABULARY.compile(When.model_validate(when), table, ())
        then: Any = (
            PriorAuthThen(required=outcome)
            if table is TableName.prior_auth
            else HumanReviewThen(hold="policy_exception", queue=f"q-{outcome}", role="r")
        )
        rules.append(Rule(f"R{position}", table, position, None, "", conditions, then, "why"))
    return rules


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


CASES = st.fixed_dictionaries(
    {
        "case_type": st.sampled_from([t.value for t in CaseType]),
        "urgency": st.sampled_from([u.value for u in Urgency]),
        "procedure": _maybe(st.sampled_from([*SINGLES, "27500", "J5000", "0100T", "99213"])),
        "place_of_service": _maybe(st.sampled_from([*PLACES, "12"])),
        "drug_class": _maybe(st.sampled_from(CLASSES)),
        "units": _maybe(st.sampled_from([1.0, 6.0, 7.0, 12.9, 13.0, 40.0])),
        "has_drug": st.booleans(),
        "auth_required": st.booleans(),
        "amount": _maybe(st.sampled_from([0.0, 1000.0, 10500.0, 20000.0])),
        "confidence": _maybe(st.sampled_from([0.5, 0.7, 0.9, 1.0])),
        "missing_documents": st.sampled_from([0.0, 1.0, 2.0]),
        "missing_fields": st.sampled_from([0.0, 1.0]),
    }
)


def _encoded(column: Column, value: Any) -> float:
    """The reference encoding of a case value, written independently of the production one."""
    if column is Column.procedure:
        return NO_CODE if value is None else code_key(value)
    if column is Column.place_of_service:
        return -1 if value is None else int(value)
    if column is Column.drug_class:
        return -1 if value is None else CLASSES.index(value)
    if column is Column.case_type:
        return [t.value for t in CaseType].index(value)
    if column is Column.urgency:
        return [u.value for u in Urgency].index(value)
    if column in (Column.has_drug, Column.auth_required):
        return int(value)
    return -math.inf if value is None else float(value)


def _contains(space: IntervalSet, point: float) -> bool:
    return any(low <= point < high for low, high in space.spans)


def _matching(rules: list[Rule], values: dict[str, Any]) -> list[int]:
    return [
        rule.position
        for rule in rules
        if all(_contains(t.space, _encoded(t.column, values[t.column])) for t in rule.conditions)
    ]


@settings(max_examples=80, deadline=None)
@given(rules=_table(TableName.human_review, REVIEW_CONDITIONS), cases=st.lists(CASES, max_size=12))
def test_a_collect_table_fires_exactly_the_rows_whose_boxes_hold_the_case(
    rules: list[Rule], cases: list[dict[str, Any]]
) -> None:
    engine = RuleEngine({TableName.human_review: rules})
    for values in cases:
        fired = engine.hits(TableName.human_review, engine.line_facts(values))
        assert fired == _matching(rules, values), values


@settings(max_examples=80, deadline=None)
@given(rules=_table(TableName.human_review, REVIEW_CONDITIONS), cases=st.lists(CASES, max_size=12))
def test_a_remembered_answer_is_the_one_the_engine_gives_for_the_same_inputs(
    rules: list[Rule], cases: list[dict[str, Any]]
) -> None:
    """Asked twice over (the second pass from memory), and with a memory so small that it
    starts afresh, the answers are still the rows whose boxes hold each case."""
    engine = RuleEngine({TableName.human_review: rules})
    for values in [*cases, *cases]:
        fired = engine.answer(TableName.human_review, engine.line_facts(values))
        assert fired == tuple(_matching(rules, values)), values
    original = engine_module.REMEMBERED_INPUTS
    engine_module.REMEMBERED_INPUTS = 2
    try:
        for values in [*reversed(cases), *cases]:
            fired = engine.answer(TableName.human_review, engine.line_facts(values))
            assert fired == tuple(_matching(rules, values)), values
    finally:
        engine_module.REMEMBERED_INPUTS = original


@settings(max_examples=80, deadline=None)
@given(rules=_table(TableName.prior_auth, LINE_CONDITIONS), cases=st.lists(CASES, max_size=12))
def test_a_first_hit_table_fires_the_first_row_whose_box_holds_the_case(
    rules: list[Rule], cases: list[dict[str, Any]]
) -> None:
    engine = RuleEngine({TableName.prior_auth: rules})
    for values in cases:
        fired = engine.hits(TableName.prior_auth, engine.line_facts(values))
        assert fired == _matching(rules, values)[:1], values


@settings(max_examples=150, deadline=None)
@given(
    rules=_table(TableName.prior_auth, DENSE_CONDITIONS), cases=st.lists(DENSE_CASES, max_size=30)
)
def test_what_the_checks_accept_is_unambiguous_and_what_they_call_unreachable_never_fires(
    rules: list[Rule], cases: list[dict[str, Any]]
) -> None:
    problems = check_table(TableName.prior_auth, rules, VOCABULARY)
    unreachable = {p.rule.position for p in problems if p.unreachable and p.rule}
    contradicted = any(p.rule and not p.unreachable for p in problems)
    boxes = [rule.box(VOCABULARY) for rule in rules]
    for values in [*cases, *_witnesses(rules, boxes)]:
        fired = _matching(rules, values)
        if not fired:
            continue
        first, *later = fired
        assert first not in unreachable, (values, [p.reason for p in problems])
        if contradicted:
            continue
        for other in (n for n in later if n not in unreachable):
            same = rules[other].same_outcome(rules[first])
            assert same or box_issubset(boxes[first], boxes[other]), (values, rules)


def _witnesses(rules: list[Rule], boxes: list[Box]) -> list[dict[str, Any]]:
    """A case in the overlap of every pair of rows that overlap: where ambiguity would show."""
    cases = []
    for j, later in enumerate(boxes):
        for earlier in boxes[:j]:
            both = box_intersection(earlier, later)
            if not box_is_empty(both):
                columns = rules[j].columns
                cases.append(
                    {
                        str(c): VOCABULARY.decode(c, s.spans[0][0])
                        for c, s in zip(columns, both, strict=True)
                    }
                )
    return cases


def test_every_table_has_the_columns_its_rows_may_name() -> None:
    assert set(LINE_CONDITIONS) <= set(TABLE_COLUMNS[TableName.prior_auth])
    assert set(REVIEW_CONDITIONS) <= set(TABLE_COLUMNS[TableName.human_review])
