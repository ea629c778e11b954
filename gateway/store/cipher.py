"""Encryption of stored message bodies, and the data key that protects them.

Raw messages carry PHI, so they are encrypted at rest with AES-256-GCM. The message id is the
associated data: a body copied onto another message row no longer decrypts.
"""

import base64
import binascii
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
ENV_VAR = "CASEGATE_DATA_KEY"


class DataKeyError(ValueError):
    """The data key is missing, malformed or exposed. Messages never contain the key itself."""


class DecryptionError(ValueError):
    """A stored body failed authentication: wrong key, wrong message id, or altered bytes."""


class MessageCipher:
    """AES-256-GCM with a random 96-bit nonce stored in front of each ciphertext."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise DataKeyError(f"the data key must be {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)

    def encrypt(self, plain: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(
                f"encrypted body is {len(blob)} bytes, shorter than nonce and tag"
            )
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except InvalidTag:
            raise DecryptionError(
                "encrypted body failed authentication (wrong data key, wrong message id, "
                "or the stored bytes were altered)"
            ) from None


def _decode_key(text: str) -> bytes | None:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


def load_data_key(home: Path, env_value: str | None) -> bytes:
    """The key from CASEGATE_DATA_KEY when set, else from (or newly into) home/keys/data.key.

    An explicitly set but malformed value is an error rather than a reason to fall back to the
    file: silently using another key would make every stored body unreadable.
    """
    if env_value is not None:
        key = _decode_key(env_value)
        if key is None:
            raise DataKeyError(
                f"{ENV_VAR} is set but is not the base64 encoding of exactly {KEY_BYTES} bytes "
                "(generate one with: openssl rand -base64 32)"
            )
        return key
    path = home / "keys" / "data.key"
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DataKeyError(f"{path} is accessible to group or others: chmod 600 it")
    key = _decode_key(path.read_text(encoding="ascii", errors="replace"))
    if key is None:
        raise DataKeyError(f"{path} does not hold the base64 encoding of exactly {KEY_BYTES} bytes")
    return key


def _create_key_file(path: Path) -> None:
    """Write a fresh key under a temporary name, then link it into place.

    The link fails if another process got there first, so concurrent first starts agree on one
    key, and nobody ever reads a half-written file.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, base64.b64encode(os.urandom(KEY_BYTES)) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
