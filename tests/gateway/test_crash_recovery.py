"""kill -9 during intake: every accepted case still reaches a decision, exactly once.

The gateway runs as its own process (`casegate serve`, workers inside) and the payer sandbox as
another, so the sandbox keeps counting effects while the gateway is killed at a random moment
during 2,000 submissions and then restarted. The client behaves as a real one: a request whose
answer was lost is sent again with the same Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.sandbox import HttpSandboxControl
from gateway.demo.backlog import backlog
from gateway.settings import load_settings
from tests.gateway.api.support import dev_token, free_port
from tests.gateway.process_support import ServeProcess

Submission = tuple[str, dict[str, Any]]
SUBMISSIONS = 2000
CONCURRENCY = 16
SETTLED = {"approved", "partially_approved", "denied", "more_info_requested"}
pytestmark = pytest.mark.slow


@pytest.fixture
def payer(tmp_path: Path) -> Iterator[HttpSandboxControl]:
    (tmp_path / "payer-secret").write_text("crash-test-secret")
    clients = tmp_path / "clients.yaml"
    clients.write_text(
        json.dumps(
            [{"client_id": "casegate", "client_secret": f"file:{tmp_path / 'payer-secret'}"}]
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.payer_rest.sandbox", "--clients", str(clients)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    base_url = json.loads(process.stdout.readline())["base_url"]
    yield HttpSandboxControl(base_url)
    process.terminate()
    process.wait(timeout=10)


async def _submit_all(
    gateway: ServeProcess,
    token: str,
    bodies: list[tuple[str, dict[str, Any]]],
    accepted: dict[str, str],
) -> list[tuple[str, dict[str, Any]]]:
    """Send each body once; return those whose answer never came (the gateway died)."""
    queue = list(reversed(bodies))
    unanswered: list[Submission] = []
    async with httpx.AsyncClient(
        base_url=gateway.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:

        async def sender() -> None:
            while queue:
                key, body = queue.pop()
                try:
                    response = await client.post(
                        "/v1/prior-authorizations", json=body, headers={"Idempotency-Key": key}
                    )
                except httpx.TransportError:
                    unanswered.append((key, body))
                    continue
                assert response.status_code in (202, 409), response.text
                if response.status_code == 202:
                    accepted[key] = response.json()["id"]
                else:
                    unanswered.append((key, body))

        await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
    return unanswered


async def test_kill_minus_nine_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, payer: HttpSandboxControl
) -> None:
    seed = random.randrange(10**6)
    print(f"crash test seed {seed}")
    rng = random.Random(seed)
    home = tmp_path / "home"
    config = tmp_path / "casegate.yaml"
    config.write_text(
        json.dumps(
            {
                "workers": {"lease_seconds": 3, "pended_follow_up_seconds": 0.5},
                "auth": {"rate_limit_per_second": 100000, "burst": 100000},
                "connectors": {
                    "payer": {
                        "kind": "payer_rest",
                        "config": {
                            "base_url": payer.base_url,
                            "auth": {
                                "token_url": f"{payer.base_url}/oauth/token",
                                "client_id": "casegate",
                                "client_secret": f"file:{tmp_path / 'payer-secret'}",
                            },
                        },
                    }
                },
                "routes": [{"payer": "*", "connector": "payer"}],
            }
        )
    )
    gateway = ServeProcess(home, config, free_port())
    gateway.start()
    settings = load_settings(config, environ={"CASEGATE_HOME": str(home)})
    token = dev_token(settings)
    bodies = [(f"crash-{i}", body) for i, body in enumerate(backlog(SUBMISSIONS, seed=seed))]
    accepted: dict[str, str] = {}
    try:
        kill_after = rng.uniform(1.0, 4.0)
        submit = asyncio.create_task(_submit_all(gateway, token, bodies, accepted))
        await asyncio.sleep(kill_after)
        gateway.kill()
        unanswered = await submit
        accepted_before_kill = len(accepted)
        assert unanswered, "the kill came after every submission; the test proved nothing"
        gateway.start()
        while unanswered:
            unanswered = await _submit_all(gateway, token, unanswered, accepted)
        assert len(accepted) == SUBMISSIONS
        statuses = await _wait_until_settled(gateway, token, set(accepted.values()))
    finally:
        gateway.stop()
    print(f"killed after {kill_after:.1f}s with {accepted_before_kill} accepted")
    assert len(set(accepted.values())) == SUBMISSIONS  # one case per idempotency key
    assert set(statuses.values()) <= SETTLED
    # The sandbox approves everything it sees, so a case still waiting for more information
    # is one the policy packs held for a person: it must never have reached the payer.
    held = {case_id for case_id, status in statuses.items() if status == "more_info_requested"}
    for case_id in accepted.values():
        assert payer.effects(f"{case_id}:prior_auth.submit") == (0 if case_id in held else 1)
    assert payer.effects() == SUBMISSIONS - len(held)


async def _wait_until_settled(
    gateway: ServeProcess, token: str, case_ids: set[str]
) -> dict[str, str]:
    deadline = time.monotonic() + 240
    async with httpx.AsyncClient(
        base_url=gateway.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        while True:
            statuses: dict[str, str] = {}
            cursor = None
            while True:
                params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
                page = (await client.get("/v1/cases", params=params)).json()
                statuses.update({c["id"]: c["status"] for c in page["items"]})
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert set(statuses) == case_ids, "a case was lost or one appeared from nowhere"
            if all(s in SETTLED for s in statuses.values()):
                return statuses
            assert time.monotonic() < deadline, "accepted cases did not all reach a decision"
            await asyncio.sleep(0.5)
