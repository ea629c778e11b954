"""Golden messages and small edits to them, for tests that need one thing wrong at a time."""

from __future__ import annotations

from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str) -> bytes:
    return (GOLDEN / f"{name}.hl7").read_bytes()


def _lines(data: bytes) -> list[bytes]:
    return data.replace(b"\n", b"\r").strip(b"\x0b\x1c\r").split(b"\r")


def edit(data: bytes, segment_id: str, field: int, value: str, occurrence: int = 1) -> bytes:
    """Set one field (raw HL7 text) of the nth segment with this id."""
    lines = _lines(data)
    seen = 0
    for index, line in enumerate(lines):
        if line[:3].decode() == segment_id:
            seen += 1
            if seen == occurrence:
                parts = line.split(b"|")
                position = field - 1 if segment_id == "MSH" else field
                parts.extend([b""] * (position + 1 - len(parts)))
                parts[position] = value.encode()
                lines[index] = b"|".join(parts)
                return b"\r".join(lines) + b"\r"
    raise AssertionError(f"no {segment_id} #{occurrence} in the message")


def drop(data: bytes, *segment_ids: str) -> bytes:
    return b"\r".join(s for s in _lines(data) if s[:3].decode() not in segment_ids) + b"\r"


def insert_after(data: bytes, segment_id: str, line: str) -> bytes:
    """Add a raw segment after the last segment with this id."""
    lines = _lines(data)
    last = max(i for i, s in enumerate(lines) if s[:3].decode() == segment_id)
    lines.insert(last + 1, line.encode())
    return b"\r".join(lines) + b"\r"
