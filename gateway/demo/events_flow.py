"""The events flow: a webhook receiver on loopback subscribes, through the API as an operator
would, to the authorization events the other flows' cases produce, and checks what it is sent
the way a receiver should: every signature verified with the subscription's secret (the
recipe in gateway.events.signing), and each case's events in sequence order.

It sends no cases of its own; it reports what reached the receiver and what was given up on.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from canonical.event_catalog import EventType
from connectors.loopback import LoopbackServer
from gateway.demo.access import dev_token, read_body
from gateway.demo.flow import DemoContext, FlowResult
from gateway.events.signing import WebhookVerificationError, verify
from gateway.settings import Settings

SUBSCRIBED = [kind.value for kind in EventType if kind.value.startswith("authorization.")]
HOOK_PATH = "/hooks/authorizations"
DRAIN_SECONDS = 30.0

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class _Call:
    headers: dict[str, str]
    body: bytes
    received_at: float  # wall clock, for the timestamp tolerance check


class _Receiver:
    """An ASGI app that keeps every POST it is sent and answers 204."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[_Call] = []

    def calls(self) -> list[_Call]:
        with self._lock:
            return list(self._calls)

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with self._lock:
            self._calls.append(_Call(headers, body, time.time()))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@dataclass
class Tally:
    delivered: int = 0
    verified: int = 0
    out_of_order: int = 0


def tally(calls: list[_Call], secret: str) -> Tally:
    """Verify each call and check each case's sequence numbers only ever grow (a retry of an
    event already received, same webhook-id, is a duplicate to drop, not a reordering)."""
    result = Tally()
    seen: set[str] = set()
    last: dict[str, int] = {}
    for call in calls:
        result.delivered += 1
        try:
            message_id = verify(secret, call.headers, call.body, now=call.received_at)
        except WebhookVerificationError:
            continue
        result.verified += 1
        if message_id in seen:
            continue
        seen.add(message_id)
        case = json.loads(call.body)["case"]
        if case["sequence"] < last.get(case["id"], 0):
            result.out_of_order += 1
        last[case["id"]] = max(case["sequence"], last.get(case["id"], 0))
    return result


class EventsFlow:
    name = "authorization events to a webhook"
    weight = 0  # sends no cases: it listens to the others'

    def __init__(self) -> None:
        self._receiver = _Receiver()
        self._server = LoopbackServer(self._receiver)
        self._subscription: dict[str, Any] = {}
        self._headers: dict[str, str] = {}

    async def start(self, home: Path) -> None:
        self._server.start()

    def configure(self, settings: Settings) -> Settings:
        return settings

    async def run(self, ctx: DemoContext) -> FlowResult:
        token = await dev_token(ctx.api, ctx.home, "subscriptions:write")
        self._headers = {"Authorization": f"Bearer {token}"}
        response = await ctx.api.post(
            "/v1/subscriptions",
            json={
                "event_types": SUBSCRIBED,
                "target": {"kind": "webhook", "url": self._server.base_url + HOOK_PATH},
                "description": "authorization events to a loopback receiver",
            },
            headers=self._headers,
        )
        response.raise_for_status()
        self._subscription = response.json()
        return FlowResult()

    async def report(self, ctx: DemoContext) -> list[str]:
        if not self._subscription:
            return ["authorization events: no subscription was made"]
        owed = await self._drain(ctx.api)
        dead = await self._count(ctx.api, "dead")
        found = tally(self._receiver.calls(), self._subscription["secret"])
        return [
            f"authorization events to a webhook: {found.delivered} delivered, "
            f"{found.verified} verified, {found.out_of_order} out of order, "
            f"{dead} dead letters, {owed} still owed"
        ]

    async def _drain(self, api: httpx.AsyncClient) -> int:
        """Wait (bounded) until nothing is owed to the receiver; returns what still is."""
        deadline = time.monotonic() + DRAIN_SECONDS
        while True:
            owed = await self._count(api, "pending") + await self._count(api, "leased")
            if not owed or time.monotonic() > deadline:
                return owed
            await asyncio.sleep(0.2)

    async def _count(self, api: httpx.AsyncClient, status: str) -> int:
        path = f"/v1/subscriptions/{self._subscription['id']}/deliveries"
        count = 0
        cursor: int | None = None
        while True:
            params: dict[str, str | int] = {"status": status, "limit": 200}
            if cursor is not None:
                params["cursor"] = cursor
            response = await api.get(path, params=params, headers=self._headers)
            response.raise_for_status()
            page = response.json()
            count += len(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return count

    async def stop(self) -> None:
        self._server.stop()
