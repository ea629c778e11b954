"""A webhook receiver on loopback: a real HTTP server that records what it is sent and can be
told to answer slowly or with errors, per path (one path per subscription under test)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from connectors.loopback import LoopbackServer
from gateway.events.signing import verify


@dataclass
class Behaviour:
    status: int = 204
    fail_first: int = 0
    delay_seconds: float = 0.0


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    @property
    def event(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document

    def verified_with(self, secret: str) -> bool:
        try:
            verify(secret, self.headers, self.body)
        except ValueError:
            return False
        return True


@dataclass
class _Path:
    behaviour: Behaviour = field(default_factory=Behaviour)
    calls: list[Received] = field(default_factory=list)


class WebhookReceiver:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: dict[str, _Path] = {}
        self._server = LoopbackServer(self)

    def start(self) -> str:
        return self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def url(self, path: str) -> str:
        return f"{self._server.base_url}/{path}"

    def behave(self, path: str, **changes: Any) -> None:
        with self._lock:
            self._paths.setdefault(path, _Path()).behaviour = Behaviour(**changes)

    def calls(self, path: str) -> list[Received]:
        with self._lock:
            return list(self._paths.get(path, _Path()).calls)

    def delivered(self, path: str) -> list[Received]:
        return [c for c in self.calls(path) if 200 <= c.status < 300]

    async def wait_delivered(self, path: str, count: int, timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.delivered(path)) < count:
            assert time.monotonic() < deadline, (
                f"{path}: {len(self.delivered(path))} of {count} delivered"
            )
            await asyncio.sleep(0.02)
        return self.delivered(path)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"].lstrip("/")
        with self._lock:
            state = self._paths.setdefault(path, _Path())
            behaviour = state.behaviour
            failing = len(state.calls) < behaviour.fail_first
        if behaviour.delay_seconds:
            await asyncio.sleep(behaviour.delay_seconds)
        status = 500 if failing else behaviour.status
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        with self._lock:
            state.calls.append(Received(headers, body, status, time.monotonic()))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})
