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
from abc import ABC, abstractmethod
from collections import OrderedDict
from typing import Protocol, runtime_checkable

from mappings.x12.envelope_builder import MAX_CONTROL_NUMBER

_REMEMBERED = 100_000


@runtime_checkable
class ControlNumberSource(Protocol):
    async def number_for(self, partner: str, key: str) -> int:
        """The control number for the request `key` to `partner`; the same key, the same one."""


class RememberedControlNumbers(ABC):
    """Draws a number once per request and gives the same one back for its resends.

    The memory is bounded (oldest first out): a resend comes soon after its first try, and a
    long-running process must not grow with every request it ever sent.
    """

    def __init__(self) -> None:
        self._given: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock = asyncio.Lock()

    @abstractmethod
    async def _draw(self, partner: str) -> int:
        """A number `partner` has not been given yet; called under the lock."""

    async def number_for(self, partner: str, key: str) -> int:
        async with self._lock:
            known = self._given.get((partner, key))
            if known is not None:
                return known
            number = await self._draw(partner)
            self._given[(partner, key)] = number
            if len(self._given) > _REMEMBERED:
                self._given.popitem(last=False)
            return number


class MemoryControlNumbers(RememberedControlNumbers):
    def __init__(self, start: int | None = None) -> None:
        super().__init__()
        first = start if start is not None else int(time.time() * 10) % MAX_CONTROL_NUMBER
        self._next: dict[str, int] = {}
        self._start = max(first, 1)

    async def _draw(self, partner: str) -> int:
        number = self._next.get(partner, self._start)
        self._next[partner] = number % MAX_CONTROL_NUMBER + 1
        return number


PROCESS_CONTROL_NUMBERS = MemoryControlNumbers()
"""The default source of every connector in this process that has no persisted one."""
