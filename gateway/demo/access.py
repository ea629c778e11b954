"""What every demo flow needs to reach the gateway and its sandboxes: the development client's
token, the API's cursor pages walked to the end, secret files for sandbox clients, and the
request body an ASGI receiver was sent."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from gateway.auth.keys import dev_client


async def dev_token(api: httpx.AsyncClient, home: Path, scope: str) -> str:
    """A token for the development client with `scope` (its basic auth replaces any bearer)."""
    dev = dev_client(home)
    assert dev.secret is not None
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(dev.client_id, dev.secret.resolve()),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def all_items(api: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    """Every item of a cursor-paged listing, page after page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get(path, params=params)).json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items


def secret_file(home: Path, name: str) -> Path:
    """A fresh random secret in a file only its owner reads, for a `file:` secret reference."""
    path = home / name
    path.write_text(uuid.uuid4().hex)
    path.chmod(0o600)
    return path


async def read_body(receive: Callable[[], Awaitable[Mapping[str, Any]]]) -> bytes:
    """The whole body of an ASGI HTTP request, however many messages it came in."""
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body", False):
            return body
