"""MLLP framing: reassembly across any split, stray bytes, size limits, truncation."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.hl7v2_mllp.framing import (
    FrameTooLarge,
    MllpReader,
    TruncatedFrame,
    frame,
)

# Message bodies: anything without the start byte or the end marker.
bodies = st.binary(max_size=300).map(lambda b: b.replace(b"\x0b", b"").replace(b"\x1c", b""))
stray = st.binary(max_size=20).map(lambda b: b.replace(b"\x0b", b""))


def read_all(chunks: list[bytes], limit: int = 1024) -> tuple[list[bytes | str], int]:
    """Feed the chunks to a reader; the messages (or error names) read, and the stray count."""

    async def run() -> tuple[list[bytes | str], int]:
        stream = asyncio.StreamReader()
        for chunk in chunks:
            stream.feed_data(chunk)
        stream.feed_eof()
        reader = MllpReader(stream, limit)
        out: list[bytes | str] = []
        while True:
            try:
                message = await reader.read_message()
            except (FrameTooLarge, TruncatedFrame) as exc:
                out.append(type(exc).__name__)
                continue
            if message is None:
                return out, reader.stray_bytes
            out.append(message)

    return asyncio.run(run())


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@given(st.lists(st.tuples(stray, bodies), max_size=6), stray, st.lists(st.integers(0, 10_000)))
def test_any_split_reassembles_and_counts_stray_bytes(
    frames: list[tuple[bytes, bytes]], tail: bytes, cuts: list[int]
) -> None:
    data = b"".join(gap + frame(body) for gap, body in frames) + tail
    messages, strays = read_all(split(data, cuts))
    assert messages == [body for _, body in frames]
    assert strays == sum(len(gap) for gap, _ in frames) + len(tail)


@given(st.integers(1, 64), st.integers(0, 3), st.lists(st.integers(0, 10_000)))
def test_limit_is_exact_and_an_oversize_frame_leaves_the_stream_usable(
    limit: int, over: int, cuts: list[int]
) -> None:
    fits = b"A" * limit
    data = frame(b"B" * (limit + 1 + over)) + frame(fits)
    assert read_all(split(data, cuts), limit)[0] == ["FrameTooLarge", fits]


async def test_oversize_frame_is_never_buffered_whole() -> None:
    stream = asyncio.StreamReader()
    reader = MllpReader(stream, max_message_bytes=1000)
    head = b"MSH|^~\\&|EHR|GEN|||20260101||ORM^O01|CTRL-1|P|2.5.1\r"
    stream.feed_data(b"\x0b" + head)
    task = asyncio.ensure_future(reader.read_message())
    for _ in range(200):
        stream.feed_data(b"X" * 65536)
        await asyncio.sleep(0)
        assert len(reader._buffer) < 1000 + 65536 + 2
    stream.feed_data(b"\x1c\r")
    with pytest.raises(FrameTooLarge) as caught:
        await task
    assert caught.value.head.startswith(head)
    assert caught.value.size == len(head) + 200 * 65536


def test_end_of_stream_inside_a_frame_is_a_truncated_frame() -> None:
    assert read_all([b"\x0bMSH|partial"]) == (["TruncatedFrame"], 0)


def test_a_message_holding_the_end_marker_cannot_be_framed() -> None:
    with pytest.raises(ValueError, match="cannot be framed"):
        frame(b"MSH|\x1c\rmore")
