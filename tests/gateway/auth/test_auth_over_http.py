"""The whole flow over real HTTP: uvicorn on loopback, the dev client, a protected route."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from litestar import Litestar

from gateway.auth import AuthSettings


@pytest.fixture
def served(make_app: Callable[[AuthSettings], Litestar], settings: AuthSettings) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(make_app(settings), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


async def test_dev_client_gets_a_token_and_calls_the_api(served: str, tmp_path: Path) -> None:
    secret = (tmp_path / "keys" / "dev-client-secret").read_text()
    async with httpx.AsyncClient(base_url=served) as http:
        issued = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "cases:read cases:write"},
            auth=("casegate-dev", secret),
        )
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        created = await http.post("/v1/cases", headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 202
        assert created.json() == {"tenant": "default"}
        listed = await http.get("/v1/cases", headers={"Authorization": f"Bearer {token}"})
        assert listed.json()["scopes"] == ["cases:read", "cases:write"]
        refused = await http.get("/v1/cases")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
