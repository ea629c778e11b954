"""Keys, a JWKS publisher and configurations for the fhir_pas tests."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from tests.connectors.connector_test_support import ROOT

CLIENT_ID = "casegate-pas"
ELIGIBILITY_CASE: dict[str, Any] = json.loads(
    (ROOT / "examples" / "eligibility-check.json").read_text()
)

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def jwks_app(keys: list[dict[str, Any]]) -> Callable[[Scope, Any, Send], Awaitable[None]]:
    """An ASGI app that publishes `keys` as a JWKS document at any path, as a client would."""
    body = json.dumps({"keys": keys}).encode()

    async def app(scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def pas_config(
    base_url: str, token_url: str, private_key: Path, kid: str, alg: str = "ES384"
) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "timeout_seconds": 5,
        "auth": {
            "token_url": token_url,
            "client_id": CLIENT_ID,
            "auth_method": "private_key_jwt",
            "private_key": f"file:{private_key}",
            "key_id": kid,
            "signing_alg": alg,
        },
    }
