"""The end-to-end baseline: the same cases sent straight to the payer sandbox with httpx.

This is what any client of the payer must do at the least - fetch a token, POST each submission
with an idempotency key, and inquire again on a pended one after the same wait the gateway
uses - with no durable intake, no outbox and no audit. It runs as many requests at once as the
gateway's workers do, so the ratio prices what the gateway adds around the same external work.
Submission bodies are mapped before the clock starts.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from canonical.cases import PriorAuthorizationRequest
from mappings.payer_rest import build_submission

SUBMIT_PATH = "/v1/prior-auth-requests"
DECIDED = frozenset({"APPROVED", "PARTIALLY_APPROVED", "DENIED"})
TIMEOUT_SECONDS = 30.0


@dataclass
class PeerResult:
    """Seconds from the start until each case's decision, what each case ended as, and the
    CPU this process spent doing it."""

    decided_after: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    pended: int = 0
    timed_out: bool = False
    client_cpu: float = 0.0

    @property
    def decided(self) -> int:
        return len(self.decided_after)

    @property
    def rate(self) -> float:
        span = max(self.decided_after, default=0.0)
        return self.decided / span if span > 0 else 0.0


def submissions(cases: Sequence[Mapping[str, Any]]) -> list[tuple[str, bytes]]:
    """(request id, body) per case; the ids are fresh, so a rerun is never a replay."""
    run = secrets.token_hex(4).upper()
    built = []
    for index, case in enumerate(cases):
        request_id = f"PEER{run}{index:06d}"
        request = PriorAuthorizationRequest.model_validate(case)
        body = json.dumps(build_submission(request_id, request), separators=(",", ":"))
        built.append((request_id, body.encode()))
    return built


async def _token(client: httpx.AsyncClient, client_id: str, secret: str) -> str:
    response = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def submit_directly(
    base_url: str,
    client_id: str,
    secret: str,
    bodies: Sequence[tuple[str, bytes]],
    *,
    concurrency: int,
    follow_up_seconds: float,
    time_limit: float,
) -> PeerResult:
    result = PeerResult()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=TIMEOUT_SECONDS
    ) as client:
        token = await _token(client, client_id, secret)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        slots = asyncio.Semaphore(concurrency)
        started = time.perf_counter()
        cpu_before = time.process_time()

        async def one(request_id: str, body: bytes) -> None:
            async with slots:
                response = await client.post(
                    SUBMIT_PATH,
                    content=body,
                    headers={**headers, "Idempotency-Key": f"{request_id}:submit"},
                )
            answer = response.json()
            if answer.get("status") == "PENDED":
                result.pended += 1
            while answer.get("status") == "PENDED":
                await asyncio.sleep(follow_up_seconds)  # no slot held while waiting
                async with slots:
                    response = await client.get(
                        f"{SUBMIT_PATH}/{answer['referenceNumber']}", headers=headers
                    )
                answer = response.json()
            status = str(answer.get("status", f"HTTP {response.status_code}"))
            result.outcomes[status] += 1
            if status in DECIDED:
                result.decided_after.append(time.perf_counter() - started)

        try:
            async with asyncio.timeout(time_limit):
                settled = await asyncio.gather(
                    *(one(request_id, body) for request_id, body in bodies),
                    return_exceptions=True,
                )
        except TimeoutError:
            result.timed_out = True
            settled = []
        result.client_cpu = time.process_time() - cpu_before
        for outcome in settled:
            if isinstance(outcome, BaseException):
                result.outcomes[f"error {type(outcome).__name__}"] += 1
    return result
