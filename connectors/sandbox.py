"""The one small interface through which tests steer a sandbox.

A sandbox is the fake far side of a connector: a real server on loopback speaking the real
protocol. The conformance kit, the gateway's crash tests and the demo all need to make it
misbehave on cue and to count what it did, whichever connector it serves, so every sandbox
offers the same controls: in memory when it runs in the test's process, or over HTTP at
`/_sandbox/*` when it runs as its own process (`HttpSandboxControl`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

import httpx


class Fault(StrEnum):
    """Misbehaviours a sandbox can be told to show on its next calls."""

    timeout = "timeout"  # hang past the client's timeout, without acting on the request
    rate_limited = "rate_limited"  # 429 with Retry-After
    unavailable = "unavailable"  # 503
    bad_request = "bad_request"  # 400 whose body echoes the request, PHI and all
    unauthorized = "unauthorized"  # 401 to a valid token
    malformed = "malformed"  # 200 with a body that is not JSON
    off_contract = "off_contract"  # 200 with JSON that is not the protocol's answer
    lost_response = "lost_response"  # act on the request, then hang: the answer never arrives


@runtime_checkable
class SandboxControl(Protocol):
    @property
    def base_url(self) -> str: ...

    def inject(self, fault: Fault, count: int = 1) -> None:
        """Make the next `count` protocol calls show `fault`."""

    def effects(self, key: str | None = None) -> int:
        """Requests acted on under idempotency `key` (0 or 1 when de-duplication holds).

        Without a key: all requests acted on since the last reset.
        """

    def reset(self) -> None:
        """Forget effects, counters and pending faults (issued tokens stay valid)."""


class HttpSandboxControl:
    """`SandboxControl` for a sandbox in another process, through its `/_sandbox/*` routes."""

    def __init__(self, base_url: str, *, timeout_seconds: float = 5.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds

    @property
    def base_url(self) -> str:
        return self._base_url

    def inject(self, fault: Fault, count: int = 1) -> None:
        self._call("POST", "/_sandbox/faults", json={"fault": fault.value, "count": count})

    def effects(self, key: str | None = None) -> int:
        params = {"key": key} if key is not None else {}
        body = self._call("GET", "/_sandbox/effects", params=params).json()
        count = body["effects"] if key is not None else body["totals"]["effects"]
        if not isinstance(count, int):
            raise TypeError("the sandbox reported a non-integer effect count")
        return count

    def reset(self) -> None:
        self._call("POST", "/_sandbox/reset")

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: object | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        response = httpx.request(
            method, self._base_url + path, json=json, params=params, timeout=self._timeout
        )
        response.raise_for_status()
        return response
