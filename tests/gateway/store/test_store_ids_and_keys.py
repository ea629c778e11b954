"""Identifiers, the message cipher and the data key (no database involved)."""

import base64
import os
import re
import stat
import time
from pathlib import Path

import pytest

from gateway.store.cipher import (
    DataKeyError,
    DecryptionError,
    MessageCipher,
    load_data_key,
)
from gateway.store.ids import new_id

CROCKFORD_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")


def test_ids_are_ulids_in_creation_order() -> None:
    ids = [new_id() for _ in range(5000)]
    assert all(CROCKFORD_ULID.fullmatch(i) for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_id_timestamp_is_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    value = 0
    for char in new_id()[:10]:
        value = value * 32 + "0123456789ABCDEFGHJKMNPQRSTVWXYZ".index(char)
    assert before <= value <= time.time_ns() // 1_000_000 + 1


def test_cipher_round_trip_hides_the_plaintext() -> None:
    cipher = MessageCipher(os.urandom(32))
    plain = b"MSH|^~\\&|EHR|...|PID|1||M123456789||ROE^JANE"
    blob = cipher.encrypt(plain, b"msg-1")
    assert plain not in blob and b"M123456789" not in blob
    assert cipher.decrypt(blob, b"msg-1") == plain
    assert cipher.encrypt(plain, b"msg-1") != blob  # fresh nonce each time


@pytest.mark.parametrize(
    "mangle",
    [
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),
        lambda blob: blob[:20],
        lambda blob: b"",
    ],
    ids=["flipped-bit", "truncated", "empty"],
)
def test_cipher_rejects_altered_blobs(mangle) -> None:
    cipher = MessageCipher(os.urandom(32))
    blob = cipher.encrypt(b"payload", b"msg-1")
    with pytest.raises(DecryptionError):
        cipher.decrypt(mangle(blob), b"msg-1")


def test_cipher_rejects_other_message_id_and_other_key() -> None:
    cipher = MessageCipher(os.urandom(32))
    blob = cipher.encrypt(b"payload", b"msg-1")
    with pytest.raises(DecryptionError, match="failed authentication"):
        cipher.decrypt(blob, b"msg-2")
    with pytest.raises(DecryptionError):
        MessageCipher(os.urandom(32)).decrypt(blob, b"msg-1")


def test_cipher_needs_a_256_bit_key() -> None:
    with pytest.raises(DataKeyError, match="32 bytes, got 16"):
        MessageCipher(bytes(16))


def test_key_from_the_environment(tmp_path: Path) -> None:
    key = os.urandom(32)
    assert load_data_key(tmp_path, base64.b64encode(key).decode() + "\n") == key
    assert not (tmp_path / "keys").exists()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64 at all!!",
        base64.b64encode(b"k" * 16).decode(),
        base64.b64encode(b"k" * 33).decode(),
        "c2VjcmV0LWtleS12YWx1ZQ",  # unpadded
    ],
)
def test_a_malformed_environment_key_is_an_error_that_does_not_echo_it(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(DataKeyError, match="CASEGATE_DATA_KEY") as caught:
        load_data_key(tmp_path, value)
    message = str(caught.value)
    assert value == "" or value not in message
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert not (tmp_path / "keys").exists()  # no silent fallback to a file key


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    first = load_data_key(tmp_path, None)
    path = tmp_path / "keys" / "data.key"
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_data_key(tmp_path, None) == first
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    load_data_key(tmp_path, None)
    path = tmp_path / "keys" / "data.key"
    path.chmod(0o644)
    with pytest.raises(DataKeyError, match="chmod 600"):
        load_data_key(tmp_path, None)


def test_malformed_key_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "data.key"
    path.parent.mkdir()
    path.write_text("hunter2-not-a-key\n")
    path.chmod(0o600)
    with pytest.raises(DataKeyError, match=r"data\.key does not hold") as caught:
        load_data_key(tmp_path, None)
    assert "hunter2" not in str(caught.value)
