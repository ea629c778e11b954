"""The tokenizer: delimiters from the ISA, segments, components, repetitions, release
characters, streaming, byte-for-byte writing, and errors located without quoting data."""

from __future__ import annotations

import io
import tracemalloc
from typing import Any

import pytest

from mappings.x12 import (
    Delimiters,
    X12Error,
    build,
    iter_segments,
    parse_segments,
    read_delimiters,
    serialize,
)

ISA = (
    b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    b"*261120*1403*^*00501*000000017*0*T*:~"
)
BODY = (
    b"GS*HI*SENDER*RECEIVER*20261120*1403*17*X*005010X217~"
    b"ST*278*0001*005010X217~"
    b"HI*ABK:M1711*ABF:E119~"
    b"REF*ZZ*A^B^C~"
    b"SE*4*0001~GE*1*17~IEA*1*000000017~"
)

# ISA06 one short and ISA08 one long: same length, separators off their fixed positions
SHIFTED = ISA.replace(b"SENDER         *", b"SENDER        *").replace(
    b"RECEIVER       *", b"RECEIVER        *"
)


def _isa(
    element: bytes = b"*", repetition: bytes = b"^", component: bytes = b":", end: bytes = b"~"
) -> bytes:
    return ISA.replace(b"*", element).replace(b"^", repetition)[:-2] + component + end


def test_delimiters_come_from_their_fixed_positions() -> None:
    isa = _isa(b"|", b"!", b">", b"\n")
    assert read_delimiters(isa) == Delimiters("|", ">", "\n", "!")


def test_a_letter_in_isa11_means_no_repetition_separator() -> None:
    assert read_delimiters(_isa(repetition=b"U")).repetition is None


@pytest.mark.parametrize(
    ("data", "where", "ta1_code"),
    [
        (ISA[:80], "segment 1 (ISA)", "023"),
        (b"GS" + ISA[2:], "segment 1", ""),
        (SHIFTED, "segment 1 (ISA) element 06", "022"),
        (_isa(element=b"A"), "segment 1 (ISA)", "026"),
        (_isa(component=b"*"), "segment 1 (ISA)", "027"),
        (_isa(end=b":"), "segment 1 (ISA)", "004"),
        (_isa(end=b"9"), "segment 1 (ISA)", "004"),
    ],
)
def test_a_bad_isa_is_located_and_earns_its_ta1_code(
    data: bytes, where: str, ta1_code: str
) -> None:
    with pytest.raises(X12Error) as caught:
        parse_segments(data)
    assert str(caught.value.location) == where
    assert caught.value.ta1_code == ta1_code


def test_segments_elements_components_and_repetitions() -> None:
    segments = parse_segments(ISA + BODY)
    assert [s.id for s in segments] == ["ISA", "GS", "ST", "HI", "REF", "SE", "GE", "IEA"]
    hi, ref = segments[3], segments[4]
    assert hi.components(1) == ["ABK", "M1711"]
    assert hi.component(2, 2) == "E119"
    assert hi.component(3, 1) == ""
    assert ref.repetitions(2) == ["A", "B", "C"]
    assert ref.get(2) == "A^B^C"
    assert ref.get(9) == ""
    assert segments[0].get(6) == "SENDER         "


def test_serialize_reproduces_the_input_with_its_line_breaks() -> None:
    data = (ISA + BODY).replace(b"~", b"~\r\n")
    segments = parse_segments(data)
    assert serialize(segments) == data
    assert segments[0].suffix == "\r\n"


def test_a_newline_terminator_is_not_taken_for_a_line_break() -> None:
    data = _isa(end=b"\n") + BODY.replace(b"~", b"\n")
    segments = parse_segments(data)
    assert [s.suffix for s in segments] == [""] * 8
    assert serialize(segments) == data


def test_streaming_yields_the_same_segments_in_any_chunk_size() -> None:
    data = (ISA + BODY).replace(b"~", b"~\n") * 3
    whole = parse_segments(data)
    assert len(whole) == 24
    for size in (1, 2, 7, 105, 106, 107, 4096):
        assert list(iter_segments(io.BytesIO(data), chunk_size=size)) == whole


def test_interchanges_with_different_delimiters_follow_each_other() -> None:
    second = (
        _isa(b"|", b"!", b">", b"\n") + BODY.replace(b"*", b"|").replace(b"~", b"\n")
    ).replace(b":", b">")
    data = ISA + BODY + second
    segments = parse_segments(data)
    assert [s.delimiters.element for s in segments] == ["*"] * 8 + ["|"] * 8
    assert segments[11].components(1) == ["ABK", "M1711"]
    assert serialize(segments) == data
    assert list(iter_segments(io.BytesIO(data), chunk_size=5)) == segments


def test_release_character_escapes_delimiters_and_itself() -> None:
    data = ISA + b"NM1*IL*1*O?*BRIEN*A??B*C?:D~IEA*0*000000017~"
    nm1 = parse_segments(data, release="?")[1]
    assert nm1.get(3) == "O*BRIEN"
    assert nm1.get(4) == "A?B"
    assert nm1.components(5) == ["C:D"]
    assert serialize(parse_segments(data, release="?")) == data
    assert list(iter_segments(io.BytesIO(data), release="?", chunk_size=3))[1] == nm1


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        (None, ["NM1", "IL", "1", "O?", "BRIEN", ""]),
        ("?", ["NM1", "IL", "1", "O*BRIEN", "", ""]),
    ],
)
def test_values_are_the_elements_by_position_padded_and_released(
    release: str | None, expected: list[str]
) -> None:
    data = ISA + b"NM1*IL*1*O?*BRIEN~IEA*0*000000017~"
    nm1 = parse_segments(data, release=release)[1]
    assert nm1.values(5) == expected
    assert nm1.values(1) == ["NM1", "IL"]


def test_release_character_before_an_ordinary_character_is_refused() -> None:
    with pytest.raises(X12Error) as caught:
        parse_segments(ISA + b"NM1*IL*1*O?BRIEN~", release="?")
    assert str(caught.value.location) == "segment 2 (NM1) element 03"


def test_build_escapes_with_a_release_character_and_refuses_without() -> None:
    released = Delimiters(release="?")
    segment = build("NM1", "IL", "1", "O*BRIEN", ["A:B", "C"], delimiters=released)
    assert segment.to_text() == "NM1*IL*1*O?*BRIEN*A?:B:C~"
    assert segment.get(3) == "O*BRIEN"
    with pytest.raises(X12Error) as caught:
        build("NM1", "IL", "1", "O*BRIEN", delimiters=Delimiters())
    assert str(caught.value.location) == "NM1 element 03"
    assert "BRIEN" not in str(caught.value)


def test_build_drops_trailing_empty_elements_and_components() -> None:
    segment = build(
        "SV1", ["HC", "27447", "", ""], None, "UN", "1", None, "", delimiters=Delimiters()
    )
    assert segment.to_text() == "SV1*HC:27447**UN*1~"


def test_utf8_values_travel_as_bytes_and_read_back_as_text() -> None:
    segment = build("NM1", "IL", "1", "Peña", delimiters=Delimiters())
    data = ISA + segment.to_bytes()
    assert "Peña".encode() in data
    assert parse_segments(data)[1].text(3) == "Peña"


@pytest.mark.parametrize(
    ("tail", "where", "problem"),
    [
        (b"GS*HI~~", "segment 3", "an empty segment"),
        (b"GS*HI~g1*X~", "segment 3", "not a segment id"),
        (b"GS*HI~ST*278", "segment 3", "the last segment has no terminator"),
    ],
)
def test_broken_segments_are_located_without_their_content(
    tail: bytes, where: str, problem: str
) -> None:
    with pytest.raises(X12Error) as caught:
        parse_segments(ISA + tail)
    assert str(caught.value.location) == where
    assert caught.value.problem == problem


def test_a_segment_without_terminator_cannot_grow_without_bound() -> None:
    stream = io.BytesIO(ISA + b"GS*" + b"A" * 5000)
    with pytest.raises(X12Error) as caught:
        list(iter_segments(stream, chunk_size=512, max_segment_length=1024))
    assert "longer than 1024 bytes" in caught.value.problem


def test_segment_repr_shows_shape_not_values() -> None:
    segment = parse_segments(ISA + b"NM1*IL*1*TESTPATIENT*AVERY~")[1]
    assert repr(segment) == "Segment('NM1', 4 elements)"


class _Generated(io.RawIOBase):
    """A large interchange produced on demand, so the test itself holds none of it."""

    def __init__(self, segments: int) -> None:
        self.head = ISA + b"GS*HP*SENDER*RECEIVER*20261120*1403*17*X*005010X221A1~\n"
        self.line = b"CLP*PATIENTACCOUNT0001*1*1250.00*900.00*100.00*12*CLAIM0000000001~\n"
        self.left = segments
        self.pending = self.head

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self.pending) < len(buffer) and self.left:
            batch = min(self.left, 1000)
            self.pending += self.line * batch
            self.left -= batch
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def test_streaming_a_large_file_keeps_memory_bounded() -> None:
    count = 100_000  # about 7 MB
    tracemalloc.start()
    try:
        stream = io.BufferedReader(_Generated(count))
        seen = sum(1 for _ in iter_segments(stream, chunk_size=1 << 16))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count + 2
    assert peak < 2 * 1024 * 1024
