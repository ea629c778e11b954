"""What gateway tests share: the running gateway handle, a dev token, the example requests."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar

from canonical.eligibility import EligibilityResult
from gateway.auth.issuer import mint_token
from gateway.auth.keys import dev_client, load_or_create_issuer_key
from gateway.runtime import Runtime
from gateway.serving import start_server
from gateway.settings import Settings

EXAMPLES = Path(__file__).parents[3] / "examples"


def example_request(**changes: Any) -> dict[str, Any]:
    """The example prior authorization, with another `procedure_code` or `payer_id` if given."""
    body: dict[str, Any] = json.loads((EXAMPLES / "prior-authorization.json").read_text())
    if "procedure_code" in changes:
        body["service_lines"][0]["procedure_code"] = changes.pop("procedure_code")
    if "payer_id" in changes:
        body["payer"]["id"] = changes.pop("payer_id")
    assert not changes
    return body


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released), for a server started later."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def dev_token(settings: Settings, scopes: tuple[str, ...] = ("cases:read", "cases:write")) -> str:
    """A real access token for the development client of the gateway these settings describe."""
    key = load_or_create_issuer_key(settings.home)
    return mint_token(key, settings.auth, dev_client(settings.home), scopes)


@asynccontextmanager
async def served(
    app: Litestar, token: str, *, port: int = 0, timeout: float = 10
) -> AsyncIterator[httpx.AsyncClient]:
    """The app served on loopback, and a client of it carrying the token; stopped on exit."""
    server = await start_server(app, port=port)
    try:
        async with httpx.AsyncClient(
            base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        ) as api:
            yield api
    finally:
        await server.stop()


@dataclass
class CaseApi:
    """Reading cases back through the API of a gateway whose workers run on their own."""

    api: httpx.AsyncClient

    async def case(self, case_id: str) -> dict[str, Any]:
        return dict((await self.api.get(f"/v1/cases/{case_id}")).json())

    async def events(self, case_id: str) -> list[dict[str, Any]]:
        return list((await self.api.get(f"/v1/cases/{case_id}/events")).json())

    async def wait_for(
        self, case_id: str, statuses: str | set[str], timeout: float = 20
    ) -> dict[str, Any]:
        """The case once its status is (one of) `statuses`; fails if it is not by the timeout."""
        wanted = {statuses} if isinstance(statuses, str) else statuses
        deadline = time.monotonic() + timeout
        while (case := await self.case(case_id))["status"] not in wanted:
            assert time.monotonic() < deadline, f"case stayed {case['status']}"
            await asyncio.sleep(0.05)
        return case

    async def check_eligibility(self, key: str, member_id: str, payer_id: str | None = None) -> str:
        """The example eligibility check for `member_id` (to `payer_id` if given), accepted."""
        body: dict[str, Any] = json.loads((EXAMPLES / "eligibility-check.json").read_text())
        if payer_id is not None:
            body["payer"]["id"] = payer_id
        body["coverage"]["member_id"] = member_id
        body["service_type_codes"] = ["30", "2"]
        answer = await self.api.post(
            "/v1/eligibility-checks", json=body, headers={"Idempotency-Key": key}
        )
        assert answer.status_code == 202, answer.text
        return str(answer.json()["id"])

    async def eligibility_result(self, case_id: str) -> EligibilityResult:
        """The canonical result the case's history keeps, exactly once."""
        events = await self.events(case_id)
        [kept] = [e for e in events if e["type"] == "case.eligibility_result"]
        return EligibilityResult.model_validate(kept["data"])


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
