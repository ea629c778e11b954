"""The behaviour every sandbox shares, so each sandbox holds only its own protocol.

A sandbox queues the faults it is told to show (`FaultQueue`), holds a request open past the
client's timeout without keeping a stopping server waiting (`Hold`), answers each fault in its
protocol's own words (`FaultAnswers`, played by `misbehave`) and acts once per idempotency key
(`EffectLog`). What a fault looks like on the wire (an OperationOutcome, an OData error, a CORE
form, an HL7 ACK) stays in the sandbox that speaks it; the routes and the server around it are
in `connectors.sandbox_server`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from litestar import Response

from connectors.sandbox import Fault

ECHO_LIMIT = 2000
DEFAULT_HANG_SECONDS = 30.0
DEFAULT_TOKEN_TTL_SECONDS = 300.0
API = "api"
TOKEN = "token"  # noqa: S105 (the name of a fault target, not a credential)
ALL_TARGETS = frozenset({API, TOKEN})


@dataclass
class QueuedFault:
    fault: Fault
    remaining: int
    target: str
    retry_after: int


class FaultQueue:
    """Faults waiting to be shown, each on the next `count` calls to its target (the API, or
    the token endpoint), oldest first; safe to use from the server's and the test's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: list[QueuedFault] = []

    def inject(self, fault: Fault, count: int = 1, target: str = API, retry_after: int = 1) -> None:
        with self._lock:
            self._queued.append(QueuedFault(fault, count, target, retry_after))

    def take(self, target: str = API) -> QueuedFault | None:
        """The fault the next call to `target` is to show, if one is queued."""
        with self._lock:
            for queued in self._queued:
                if queued.target == target:
                    queued.remaining -= 1
                    if queued.remaining <= 0:
                        self._queued.remove(queued)
                    return queued
        return None

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()


class IdempotencyConflict(Exception):
    """The key was used before with a different request (the IETF draft's 422)."""


@dataclass
class _Effect:
    fingerprint: str
    answer: bytes
    duplicates: int = 0


class EffectLog:
    """Requests acted on, by idempotency key: a repeat under a key is answered from here and
    counts as a duplicate, not as a second effect. Not locked: its ledger's lock guards it."""

    def __init__(self) -> None:
        self._effects: dict[str, _Effect] = {}

    def replay(self, key: str, fingerprint: str | None) -> bytes | None:
        """The stored answer to a repeat under `key`, or None for a new key; raises
        `IdempotencyConflict` when `fingerprint` (if given) is not the first request's."""
        known = self._effects.get(key)
        if known is None:
            return None
        if fingerprint is not None and known.fingerprint != fingerprint:
            raise IdempotencyConflict
        known.duplicates += 1
        return known.answer

    def record(self, key: str, fingerprint: str, answer: bytes) -> None:
        self._effects[key] = _Effect(fingerprint, answer)

    def of(self, key: str) -> dict[str, Any]:
        """What `GET /_sandbox/effects?key=` answers."""
        effect = self._effects.get(key)
        return {
            "key": key,
            "effects": 0 if effect is None else 1,
            "duplicates": 0 if effect is None else effect.duplicates,
        }

    def by_key(self) -> dict[str, dict[str, int]]:
        return {key: {"effects": 1, "duplicates": e.duplicates} for key, e in self._effects.items()}

    def clear(self) -> None:
        self._effects.clear()


class Hold:
    """Holds requests open past any client's timeout, and lets them all go at once when the
    sandbox stops, so stopping never waits out a hang."""

    def __init__(self, seconds: float = DEFAULT_HANG_SECONDS) -> None:
        self.seconds = seconds
        self.released = threading.Event()

    async def hang(self, seconds: float | None = None) -> None:
        wait = self.seconds if seconds is None else seconds
        deadline = time.monotonic() + wait
        # Polled: `released` is set from another thread (the one stopping the sandbox).
        while time.monotonic() < deadline and not self.released.is_set():  # noqa: ASYNC110
            await asyncio.sleep(min(0.05, wait))


def echo(body: bytes) -> str:
    """The start of a request, as a careless server quotes it back: faults that carry a body
    echo the request so a connector that copies answers into its errors is caught leaking PHI."""
    return body[:ECHO_LIMIT].decode("utf-8", errors="replace")


class FaultAnswers(Protocol):
    """What each fault looks like in one protocol."""

    def unavailable(self) -> Response[bytes]: ...

    def rate_limited(self, retry_after: int) -> Response[bytes]: ...

    def bad_request(self, body: bytes) -> Response[bytes]: ...

    def unauthorized(self) -> Response[bytes]: ...

    def malformed(self, body: bytes) -> Response[bytes]: ...

    def off_contract(self, body: bytes) -> Response[bytes]: ...


async def misbehave(
    answers: FaultAnswers, hold: Hold, queued: QueuedFault, body: bytes
) -> Response[bytes]:
    """The answer `queued` calls for; a hang ends (if the client is still there) in a 503."""
    fault = queued.fault
    if fault in (Fault.timeout, Fault.lost_response):
        await hold.hang()
        return answers.unavailable()
    if fault is Fault.rate_limited:
        return answers.rate_limited(queued.retry_after)
    if fault is Fault.unavailable:
        return answers.unavailable()
    if fault is Fault.bad_request:
        return answers.bad_request(body)
    if fault is Fault.unauthorized:
        return answers.unauthorized()
    if fault is Fault.malformed:
        return answers.malformed(body)
    return answers.off_contract(body)
