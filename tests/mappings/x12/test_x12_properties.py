"""Properties of the codec over generated input: any interchange written with any delimiters
reads back to the same values and writes back to the same bytes; arbitrary bytes raise
nothing but the codec's own error, quickly; a decision survives a 278 response."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canonical.base import Period
from canonical.decisions import Decision, DecisionOutcome, ItemDecision, ReviewAction
from mappings.conversions import ConversionError, convert
from mappings.x12 import (
    X12Error,
    iter_segments,
    parse_segments,
    read,
    read_278_response,
    response_body,
    serialize,
)
from mappings.x12.envelope_builder import Group, Transaction, build_interchange, reply_header

GOLDEN = Path(__file__).parent / "golden"
SPECIALS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
TEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij0123456789 .,-'\u00e9\u00c7"
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4)


@dataclass
class Generated:
    data: bytes
    values: list[list[list[list[str]]]]  # segment -> element -> repetition -> component
    ids: list[str]
    release: str | None


def _escape(value: str, specials: str, release: str | None) -> str:
    if release is None:
        return value
    return "".join(release + c if c in specials else c for c in value)


@st.composite
def interchanges(draw: st.DrawFn) -> Generated:
    chosen = draw(st.lists(st.sampled_from(SPECIALS), min_size=5, max_size=5, unique=True))
    element, component, repetition, terminator, release_char = chosen
    if draw(st.booleans()):
        terminator = "\n"
    release = release_char if draw(st.booleans()) else None
    specials = element + component + repetition + terminator + (release or "")
    breaks = [b for b in ("", "\n", "\r\n") if not set(b) & set(specials)]
    plain = "".join(c for c in TEXT if c not in specials)
    alphabet = plain + (specials if release else "")
    isa_fields = [
        draw(st.text(alphabet="ABCDEFGHIJ0123456789 ", min_size=w, max_size=w)) for w in ISA_WIDTHS
    ]
    isa = element.join(["ISA", *isa_fields, repetition, "00501", "000000001", "0", "T", component])
    text = isa + terminator + draw(st.sampled_from(breaks))
    values: list[list[list[list[str]]]] = []
    ids = draw(
        st.lists(
            st.from_regex(r"[A-Z][A-Z0-9]{1,2}", fullmatch=True).filter(lambda s: s != "ISA"),
            min_size=1,
            max_size=12,
        )
    )
    for segment_id in ids:
        elements = draw(
            st.lists(
                st.lists(
                    st.lists(st.text(alphabet, max_size=6), min_size=1, max_size=3),
                    min_size=1,
                    max_size=2,
                ),
                max_size=6,
            )
        )
        values.append(elements)
        raw = [
            repetition.join(
                component.join(_escape(c, specials, release) for c in repeat) for repeat in element_
            )
            for element_ in elements
        ]
        text += element.join([segment_id, *raw]) + terminator + draw(st.sampled_from(breaks))
    return Generated(text.encode("latin-1"), values, ids, release)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interchanges(), st.integers(1, 300))
def test_any_generated_interchange_round_trips(generated: Generated, chunk: int) -> None:
    segments = parse_segments(generated.data, release=generated.release)
    assert serialize(segments) == generated.data
    assert [s.id for s in segments[1:]] == generated.ids
    for segment, elements in zip(segments[1:], generated.values, strict=True):
        for position, repeats in enumerate(elements, start=1):
            if repeats == [[""]]:  # an empty element has no repetitions at all
                assert segment.repetitions(position) == []
                continue
            for index, components in enumerate(repeats):
                assert segment.components(position, index) == components
    streamed = iter_segments(
        io.BytesIO(generated.data), release=generated.release, chunk_size=chunk
    )
    assert list(streamed) == segments


ISA = (
    b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    b"*261120*1403*^*00501*000000017*0*T*:~"
)
x12ish = st.lists(
    st.sampled_from(
        [b"~", b"*", b":", b"^", b"\n", b"ST", b"SE", b"GS", b"GE", b"IEA", b"ISA", b"HL", b"TA1"]
    )
    | st.binary(max_size=8),
    max_size=40,
).map(b"".join)


@settings(max_examples=400, deadline=2000)
@given(st.binary(max_size=300) | x12ish)
def test_arbitrary_bytes_raise_only_the_codec_error(data: bytes) -> None:
    try:
        segments = parse_segments(data)
    except X12Error as exc:
        assert exc.location.segment is None or exc.location.segment >= 1
    else:
        assert serialize(segments) == data  # whatever reads, writes back unchanged


@settings(max_examples=400, deadline=2000)
@given(x12ish | st.binary(max_size=200))
def test_arbitrary_content_after_a_valid_isa_is_judged_not_crashed(tail: bytes) -> None:
    data = ISA + tail
    try:
        checked = read(data)
    except X12Error as exc:
        assert exc.location.segment is None or exc.location.segment >= 1
    else:
        for interchange in checked:
            assert interchange.accepted or list(interchange.located_errors())
            assert interchange.interchange.to_bytes() in data
    try:
        convert(data, "x12", "canonical")
    except ConversionError as exc:
        assert exc.errors or exc.summary


REQUEST = read((GOLDEN / "dependent-limits.278.x12").read_bytes())[0]
codes = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=20)
words = (
    st.text(alphabet="abcdefghij klmnop.,", min_size=1, max_size=200).map(str.strip).filter(bool)
)


@st.composite
def decisions(draw: st.DrawFn) -> Decision:
    start = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)))
    end = draw(st.none() | st.dates(min_value=start, max_value=date(2036, 1, 1)))
    items = [
        ItemDecision(
            sequence=sequence,
            action=draw(st.sampled_from(ReviewAction)),
            authorized_units=draw(st.none() | st.decimals(0, 9999, places=2)),
            reason_code=draw(st.none() | codes.map(lambda c: (c * 2)[:2])),
        )
        for sequence in draw(st.lists(st.sampled_from([1, 2, 3]), unique=True))
    ]
    return Decision(
        outcome=draw(st.sampled_from(DecisionOutcome)),
        auth_number=draw(st.none() | codes),
        authorized_period=draw(st.none() | st.just(Period(start=start, end=end))),
        reason_code=draw(st.none() | codes.map(lambda c: (c * 2)[:2])),
        reason_text=draw(st.none() | words),
        payer_reference=draw(st.none() | codes),
        items=sorted(items, key=lambda i: i.sequence),
    )


@settings(max_examples=150, deadline=None)
@given(decisions())
def test_a_decision_survives_a_278_response(decision: Decision) -> None:
    tree = REQUEST.transactions[0].tree
    assert tree is not None
    created = datetime(2026, 11, 21, 9, 30)
    body = response_body(tree, created=created, decision=decision)
    header = reply_header(REQUEST.interchange, control_number=9, created=created)
    answer = build_interchange(
        header, [Group("HI", "005010X217", 9, [Transaction("278", "0001", body)])]
    )
    [checked] = read(answer.to_bytes())
    assert checked.accepted, list(checked.located_errors())
    response_tree = checked.transactions[0].tree
    assert response_tree is not None
    response = read_278_response(response_tree)
    assert response.case_id == "case-0002"
    expected = decision
    if (
        decision.authorized_period
        and decision.authorized_period.end == decision.authorized_period.start
    ):
        expected = decision.model_copy(
            update={"authorized_period": Period(start=decision.authorized_period.start)}
        )
    assert response.decision == expected
    assert all(isinstance(i.authorized_units, Decimal | None) for i in response.decision.items)


GOLDEN_INTERCHANGES = sorted(GOLDEN.glob("*.x12"))


@settings(max_examples=300, deadline=2000)
@given(
    st.sampled_from(GOLDEN_INTERCHANGES),
    st.integers(0, 10_000),
    st.integers(0, 30),
    st.text(alphabet="AZ09-. :^", max_size=12),
)
def test_mutated_golden_interchanges_earn_a_located_refusal_not_a_crash(
    path: Path, which: int, element: int, value: str
) -> None:
    segments = parse_segments(path.read_bytes())
    target = segments[which % len(segments)]
    if target.id == "ISA" or element == 0:
        return
    elements = list(target.elements)
    elements.extend([""] * (element + 1 - len(elements)))
    elements[element] = value
    target.elements = elements
    data = serialize(segments)
    try:
        convert(data, "x12", "canonical")
    except ConversionError as exc:
        assert exc.errors or exc.summary
