"""What API tests share: the running gateway handle and the example requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from litestar import Litestar

from gateway.runtime import Runtime
from gateway.settings import Settings

EXAMPLES = Path(__file__).parents[3] / "examples"


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
