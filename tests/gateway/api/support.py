"""What gateway tests share: the running gateway handle, a dev token, the example requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from litestar import Litestar

from gateway.auth.issuer import mint_token
from gateway.auth.keys import dev_client, load_or_create_issuer_key
from gateway.runtime import Runtime
from gateway.settings import Settings

EXAMPLES = Path(__file__).parents[3] / "examples"


def dev_token(settings: Settings, scopes: tuple[str, ...] = ("cases:read", "cases:write")) -> str:
    """A real access token for the development client of the gateway these settings describe."""
    key = load_or_create_issuer_key(settings.home)
    return mint_token(key, settings.auth, dev_client(settings.home), scopes)


@dataclass
class Gateway:
    app: Litestar
    client: httpx.AsyncClient
    settings: Settings
    token_for: Callable[..., str]

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state["runtime"]
        return runtime

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token_for()}"}
