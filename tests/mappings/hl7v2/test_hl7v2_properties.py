"""Properties over generated input: round trips, and only the declared errors escape."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappings.hl7v2 import (
    Hl7CodecError,
    Hl7Error,
    Issue,
    Message,
    Segment,
    acknowledge,
    header_of,
    parse,
    read_inbound,
    serialize,
)
from mappings.hl7v2.codec import Field

AT = datetime(2026, 11, 20, tzinfo=UTC)
GOLDEN = Path(__file__).parent / "golden"
GOLDEN_MESSAGES = [p.read_bytes() for p in sorted(GOLDEN.glob("*.hl7"))]

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10)


def trim(parts: tuple[object, ...]) -> tuple[object, ...]:
    while parts and not parts[-1]:
        parts = parts[:-1]
    return parts


fields: st.SearchStrategy[Field] = st.lists(
    st.lists(st.lists(text, max_size=3), max_size=3), max_size=3
).map(lambda reps: trim(tuple(trim(tuple(trim(tuple(c)) for c in rep)) for rep in reps)))
segment_ids = st.from_regex(r"[A-Z][A-Z0-9]{2}", fullmatch=True).filter(lambda s: s != "MSH")


@st.composite
def messages(draw: st.DrawFn) -> Message:
    separators = draw(
        st.lists(st.sampled_from(string.punctuation), min_size=5, max_size=6, unique=True)
    )
    header = Segment.of(
        "MSH", separators[0], "".join(separators[1:]), *draw(st.lists(fields, max_size=10))
    )
    body = draw(
        st.lists(
            st.builds(
                lambda sid, fs: Segment.of(sid, *fs), segment_ids, st.lists(fields, max_size=8)
            ),
            max_size=6,
        )
    )
    return Message((header, *body))


@settings(max_examples=150, deadline=None)
@given(messages())
def test_parse_inverts_serialize(message: Message) -> None:
    assert parse(serialize(message)) == message


@settings(max_examples=75, deadline=None)
@given(messages(), st.sampled_from([b"\r\n", b"\n"]))
def test_any_segment_end_reads_the_same(message: Message, end: bytes) -> None:
    data = serialize(message)
    assert parse(b"\x0b" + data.replace(b"\r", end) + b"\x1c\r") == message


def _arbitrary_bytes() -> st.SearchStrategy[bytes]:
    near_hl7 = st.lists(
        st.sampled_from(
            [b"|", b"^", b"~", b"\\", b"&", b"\r", b"\n", b"\x0b", b"\x1c", b"MSH", b"PID"]
        )
        | st.binary(max_size=4),
        max_size=40,
    ).map(b"".join)
    return st.binary(max_size=200) | near_hl7.map(lambda b: b"MSH|^~\\&|" + b) | near_hl7


@settings(max_examples=700, deadline=None)
@given(_arbitrary_bytes())
def test_arbitrary_bytes_raise_only_the_codec_error(data: bytes) -> None:
    try:
        message = parse(data)
    except Hl7CodecError as exc:
        assert exc.issues
    else:
        assert parse(serialize(message)) == message


@settings(max_examples=300, deadline=None)
@given(_arbitrary_bytes())
def test_whatever_arrives_gets_an_ack_that_parses(data: bytes) -> None:
    try:
        read_inbound(data)
        issues: tuple[Issue, ...] = ()
    except Hl7Error as exc:
        issues = exc.issues
    answer = parse(acknowledge(header_of(data), issues, control_id="A1", at=AT))
    assert answer.segments[1].id == "MSA"
    assert answer.segments[1].value(1) in {"AA", "AE", "AR", "CA", "CE", "CR"}


DAMAGE = [
    *(b"", b"X", b"19610412", b"2026-12-14", b"S", b"NW", b"CA", b"XO", b"MTH", b"27447"),
    *(b"I10", b"M17.11^Dx^I9", b"1^2^3~4", b"\\X0\\", b"\\E\\", b"&&^^~~", b"ED", b"TX"),
    b"^AP^PDF^Base64^@@",
]


@st.composite
def mutated_golden(draw: st.DrawFn) -> bytes:
    """A golden message with a few fields overwritten, segments dropped or repeated."""
    lines = (
        draw(st.sampled_from(GOLDEN_MESSAGES))
        .replace(b"\n", b"\r")
        .strip(b"\x0b\x1c\r")
        .split(b"\r")
    )
    values = st.sampled_from(DAMAGE) | st.binary(max_size=12).map(
        lambda b: b.replace(b"\r", b"").replace(b"\n", b"")
    )
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(1, len(lines) - 1))
        action = draw(st.sampled_from(["field", "field", "drop", "repeat"]))
        if action == "drop" and len(lines) > 2:
            del lines[index]
        elif action == "repeat":
            lines.insert(index, lines[index])
        else:
            parts = lines[index].split(b"|")
            position = draw(st.integers(1, max(len(parts), 40)))
            parts.extend([b""] * (position + 1 - len(parts)))
            parts[position] = draw(values)
            lines[index] = b"|".join(parts)
    return b"\r".join(lines) + b"\r"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_golden())
def test_damaged_messages_raise_only_located_hl7_errors(data: bytes) -> None:
    try:
        inbound = read_inbound(data)
    except Hl7Error as exc:
        assert all(str(issue.location) for issue in exc.issues)
    else:
        assert inbound.event.model_dump(mode="json")
