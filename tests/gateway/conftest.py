"""Fixtures every gateway test may use: a running gateway app (workers off, so intake state can
be read back as written) on each store, served by uvicorn on loopback; or the store alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from connectors.secrets import SecretRef
from gateway.app import create_app
from gateway.auth.issuer import mint_token
from gateway.auth.keys import dev_client, load_or_create_issuer_key
from gateway.auth.settings import ClientSettings
from gateway.serving import start_server
from gateway.settings import Settings, WorkerSettings
from gateway.store.engine import Store, open_store
from gateway.store.migrate import upgrade
from tests.gateway.api.support import Gateway
from tests.gateway.store.conftest import DATA_KEY


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """An open store on a freshly migrated database, for tests that read and write rows."""
    await asyncio.to_thread(upgrade, database_url)
    opened = await open_store(database_url, DATA_KEY)
    yield opened
    await opened.close()


@pytest.fixture
async def gateway(database_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        workers=WorkerSettings(in_process=False),
    )
    app = create_app(settings)
    key = load_or_create_issuer_key(settings.home)

    def token_for(
        scopes: tuple[str, ...] = ("cases:read", "cases:write"), tenant: str | None = None
    ) -> str:
        client = dev_client(settings.home)
        if tenant is not None:
            client = ClientSettings(
                client_id=f"app-{tenant}",
                tenant=tenant,
                scopes=["cases:read", "cases:write"],
                secret=SecretRef("env:UNUSED_IN_TESTS"),
            )
        return mint_token(key, settings.auth, client, scopes)

    server = await start_server(app)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            yield Gateway(app=app, client=client, settings=settings, token_for=token_for)
    finally:
        await server.stop()
