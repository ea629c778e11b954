"""The running gateway re-reads its pack directories: a broken edit is refused, the last good
pack keeps deciding, and readiness names the refused file until it is fixed. Work-queue gauges
count open items per queue, with no case data in their labels."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.orchestration.work_queue_sampler import WorkQueueSampler
from gateway.serving import start_server
from gateway.settings import PolicySettings, Settings, WorkerSettings
from tests.gateway.api.support import dev_token
from tests.gateway.orchestration.conftest import example, post_case
from tests.policies.test_pack_directory import versioned, write


@pytest.fixture
async def reloading(
    tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Path]]:
    """The gateway re-reading an operator's pack directory every 50 ms, and that directory."""
    packs = tmp_path / "packs"
    packs.mkdir()
    write(packs / "test.yaml", versioned("1.0"))
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        workers=WorkerSettings(in_process=False),
        policies=PolicySettings(directories=[packs], reload_seconds=0.05),
    )
    server = await start_server(create_app(settings))
    headers = {"Authorization": f"Bearer {dev_token(settings)}"}
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:
            yield client, packs
    finally:
        await server.stop()


async def _ready_until(api: httpx.AsyncClient, done: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        body: dict[str, Any] = (await api.get("/health/ready")).json()
        if done(body):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)


async def test_a_broken_pack_is_refused_and_the_last_good_one_decides(
    reloading: tuple[httpx.AsyncClient, Path],
) -> None:
    api, packs = reloading
    ready = await _ready_until(api, lambda body: body["status"] == "ready")
    assert ready["refused_packs"] == []

    write(packs / "test.yaml", versioned("1.1").replace("tables:", "tables:\n  unknown_table: []"))
    ready = await _ready_until(api, lambda body: body["refused_packs"])
    [refused] = ready["refused_packs"]
    assert (refused["file"], refused["in_force"]) == (str(packs / "test.yaml"), "test 1.0")
    assert any("test.yaml" in error for error in refused["errors"])
    assert ready["status"] == "ready", "a refused edit leaves the last good pack in force"

    body = example(payer={"id": "TESTPAYER", "name": "Test plan"})
    case_id = (await post_case(api, "reload-1", body))["id"]
    decision = (await api.get(f"/v1/cases/{case_id}/decision")).json()
    assert (decision["pack_id"], decision["pack_version"]) == ("test", "1.0")

    write(packs / "test.yaml", versioned("1.2"))
    await _ready_until(api, lambda body: body["refused_packs"] == [])


async def test_work_queue_gauges_count_open_items_by_queue(
    tmp_path: Path, database_url: str
) -> None:
    settings = Settings(
        home=tmp_path / "home", database_url=database_url, workers=WorkerSettings(in_process=False)
    )
    app = create_app(settings)
    server = await start_server(app)
    headers = {"Authorization": f"Bearer {dev_token(settings)}"}
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as api:
            body = example(procedure_code="27447", place_of_service="21")
            for key in ("q1", "q2"):
                await post_case(api, key, body)
            sampler = WorkQueueSampler(app.state["runtime"].store, interval=60)
            await sampler.refresh()
            [(queue, size, age, overdue)] = list(sampler.queues())
            assert (queue, size, overdue) == ("acme-intake", 2, 0)
            assert age >= 0
    finally:
        await server.stop()
