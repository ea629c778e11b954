"""The anchor file: written whole or not at all, and read back only when it is an anchor."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.anchor import FORMAT, Anchor, AnchorFileError, read_anchor, write_anchor

ANCHOR = Anchor(last_id=42, hash="ab" * 32, anchored_at=datetime(2025, 3, 1, 12, tzinfo=UTC))


def test_an_anchor_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "audit.anchor"
    write_anchor(path, ANCHOR)
    assert read_anchor(path) == ANCHOR
    document = json.loads(path.read_text())
    assert document == {
        "format": FORMAT,
        "last_id": 42,
        "hash": "ab" * 32,
        "anchored_at": "2025-03-01T12:00:00+00:00",
    }


def test_writing_again_replaces_the_anchor_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.anchor"
    write_anchor(path, ANCHOR)
    newer = Anchor(last_id=50, hash="cd" * 32, anchored_at=datetime.now(UTC))
    write_anchor(path, newer)
    assert read_anchor(path) == newer
    assert [p.name for p in tmp_path.iterdir()] == ["audit.anchor"]


def test_writing_into_a_missing_directory_fails_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "audit.anchor"
    with pytest.raises(AnchorFileError, match="cannot write the anchor") as caught:
        write_anchor(path, ANCHOR)
    assert str(caught.value).startswith(f"{path}: ")
    assert list(tmp_path.iterdir()) == []


def _valid() -> dict[str, Any]:
    return json.loads(ANCHOR.as_json())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json {", "the anchor is not JSON"),
        ("[1, 2]", "not a casegate audit anchor"),
        (json.dumps({**_valid(), "format": "other/1"}), "not a casegate audit anchor"),
        (json.dumps({k: v for k, v in _valid().items() if k != "hash"}), "has no 'hash'"),
        (json.dumps({**_valid(), "last_id": -1}), "last_id must be a whole number"),
        (json.dumps({**_valid(), "last_id": True}), "last_id must be a whole number"),
        (json.dumps({**_valid(), "last_id": "42"}), "last_id must be a whole number"),
        (json.dumps({**_valid(), "hash": "AB" * 32}), "hash must be 64 lowercase"),
        (json.dumps({**_valid(), "hash": "ab" * 31}), "hash must be 64 lowercase"),
        (json.dumps({**_valid(), "anchored_at": "soon"}), "anchored_at must be an ISO 8601"),
        (json.dumps({**_valid(), "anchored_at": 1}), "anchored_at must be an ISO 8601"),
        (
            json.dumps({**_valid(), "anchored_at": "2025-03-01T12:00:00"}),
            "anchored_at must carry a UTC offset",
        ),
    ],
)
def test_a_bad_anchor_is_refused_naming_file_and_field(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "audit.anchor"
    path.write_text(content)
    with pytest.raises(AnchorFileError, match=message) as caught:
        read_anchor(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_missing_or_binary_anchor_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AnchorFileError, match="cannot read the anchor"):
        read_anchor(tmp_path / "absent")
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(AnchorFileError, match="not JSON"):
        read_anchor(binary)
