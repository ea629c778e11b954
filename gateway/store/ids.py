"""Identifiers for cases and messages.

ULIDs sort by creation time, so listing by id ascending is creation order and keyset pagination
needs no separate timestamp column. Ids made in the same millisecond by one process increase
monotonically, so that ordering holds inside a burst of intake too.
"""

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_RANDOM_MAX = (1 << _RANDOM_BITS) - 1
_LENGTH = 26

_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def _encode(value: int) -> str:
    chars = []
    for _ in range(_LENGTH):
        chars.append(_ALPHABET[value & 0x1F])
        value >>= 5
    return "".join(reversed(chars))


def new_id() -> str:
    """A 26-character Crockford base32 ULID: 48 bits of milliseconds, 80 bits of randomness."""
    global _last_ms, _last_random
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            # Same (or a stepped-back) millisecond: keep the last timestamp and count up, so ids
            # stay strictly increasing; an overflow borrows the next millisecond.
            now_ms = _last_ms
            random_part = _last_random + 1
            if random_part > _RANDOM_MAX:
                now_ms += 1
                random_part = int.from_bytes(os.urandom(10), "big")
        else:
            random_part = int.from_bytes(os.urandom(10), "big")
        _last_ms, _last_random = now_ms, random_part
    return _encode((now_ms << _RANDOM_BITS) | random_part)
