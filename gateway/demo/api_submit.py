"""Submit canonical cases through the real /v1 API, many at a time, as an internal app would."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from gateway.demo.flow import FlowResult


async def submit_cases(
    api: httpx.AsyncClient, path: str, cases: list[dict[str, Any]], concurrency: int
) -> FlowResult:
    """POST each case to `path` with its own Idempotency-Key; 202s are the accepted cases."""
    result = FlowResult()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for case in cases:
        queue.put_nowait(case)

    async def sender() -> None:
        while not queue.empty():
            case = queue.get_nowait()
            response = await api.post(
                path, json=case, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
            if response.status_code == 202:
                result.accepted[response.json()["id"]] = time.monotonic()
            else:
                result.refused += 1

    await asyncio.gather(*(sender() for _ in range(max(1, concurrency))))
    return result
