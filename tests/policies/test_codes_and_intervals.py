"""The building blocks of conditions: code ordering, code ranges, interval arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.code_systems import code_entry_keys, code_key, code_of_key, describe_keys, ndc_product
from policies.intervals import IntervalSet, box_difference, box_intersection, uncovered

CODES = st.one_of(
    st.from_regex(r"\A[0-9]{4}[0-9FTU]\Z"),
    st.from_regex(r"\A[A-V][0-9]{4}\Z"),
)


@given(code=CODES)
def test_a_code_key_maps_back_to_its_code(code: str) -> None:
    assert code_of_key(code_key(code)) == code


def test_code_families_do_not_interleave() -> None:
    keys = [code_key(c) for c in ("00100", "99499", "0001F", "0001T", "0001U", "A0021", "J9999")]
    assert keys == sorted(keys)
    assert code_entry_keys("cpt", "70540-70553") == (code_key("70540"), code_key("70553") + 1)
    assert describe_keys(*code_entry_keys("hcpcs", "J9000-J9999")) == "J9000-J9999"
    assert code_entry_keys("cpt", 27447) == (27447, 27448)


def test_ndc_products_and_packages_normalize_to_claim_digits() -> None:
    assert ndc_product("57894-030") == "578940030"
    assert ndc_product("0002-7510") == "000027510"
    assert ndc_product("57894-0030-01") == "57894003001"
    with pytest.raises(ValueError, match="not an NDC"):
        ndc_product("57894")


SPANS = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=5).map(IntervalSet.of)


def members(interval_set: IntervalSet) -> set[int]:
    return {n for low, high in interval_set.spans for n in range(int(low), int(high))}


@given(a=SPANS, b=SPANS)
def test_interval_sets_behave_as_sets_of_integers(a: IntervalSet, b: IntervalSet) -> None:
    assert members(a & b) == members(a) & members(b)
    assert members(a - b) == members(a) - members(b)
    assert a.issubset(b) == (members(a) <= members(b))
    assert all(low < high for low, high in (a - b).spans)


@given(a=st.tuples(SPANS, SPANS), b=st.tuples(SPANS, SPANS))
def test_box_difference_leaves_exactly_what_the_other_box_does_not_hold(
    a: tuple[IntervalSet, IntervalSet], b: tuple[IntervalSet, IntervalSet]
) -> None:
    def points(box: tuple[IntervalSet, ...]) -> set[tuple[int, int]]:
        return {(x, y) for x in members(box[0]) for y in members(box[1])}

    pieces = box_difference(a, b)
    covered = [points(piece) for piece in pieces]
    assert set().union(*covered) == points(a) - points(b)
    assert sum(len(c) for c in covered) == len(set().union(*covered)), "pieces are disjoint"
    assert (uncovered(a, [b], limit=64) == []) == (not points(a) - points(b))
    assert points(box_intersection(a, b)) == points(a) & points(b)
