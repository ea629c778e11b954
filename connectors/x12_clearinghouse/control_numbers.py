"""Interchange control numbers: unique per trading partner, and stable per request.

A resend of the same request (same idempotency key) must carry the same ISA13, because a
clearinghouse de-duplicates by sender and ISA13: a new number would be a second interchange
and a second effect. The gateway supplies a persisted source; without one the connectors of a
process share one kept in memory (two instances for the same clearinghouse must not count
apart), starting from the clock so a restart does not reuse recent numbers.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Protocol, runtime_checkable

MAX_CONTROL_NUMBER = 999_999_999
_REMEMBERED = 100_000


@runtime_checkable
class ControlNumberSource(Protocol):
    async def number_for(self, partner: str, key: str) -> int:
        """The control number for the request `key` to `partner`; the same key, the same one."""


class MemoryControlNumbers:
    def __init__(self, start: int | None = None) -> None:
        first = start if start is not None else int(time.time() * 10) % MAX_CONTROL_NUMBER
        self._next: dict[str, int] = {}
        self._start = max(first, 1)
        self._given: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock = asyncio.Lock()

    async def number_for(self, partner: str, key: str) -> int:
        async with self._lock:
            known = self._given.get((partner, key))
            if known is not None:
                return known
            number = self._next.get(partner, self._start)
            self._next[partner] = number % MAX_CONTROL_NUMBER + 1
            self._given[(partner, key)] = number
            if len(self._given) > _REMEMBERED:
                self._given.popitem(last=False)
            return number


PROCESS_CONTROL_NUMBERS = MemoryControlNumbers()
"""The default source of every connector in this process that has no persisted one."""
