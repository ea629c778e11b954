"""The composition root: builds the store, the group committers (intake and audit), connectors
and auth once, from settings, and hands them to the HTTP app, the workers and the CLI alike."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from litestar import Request

from gateway.audit.writer import AuditWriter
from gateway.dispatch.connector_pool import ConnectorPool
from gateway.orchestration.packs import pack_directory, reload_packs
from gateway.phi import IdentifierHasher
from gateway.settings import Settings
from gateway.store.cipher import load_data_key
from gateway.store.engine import Store, open_store
from gateway.store.intake import GroupCommitter
from gateway.store.migrate import upgrade
from policies.pack_directory import PackDirectory


@dataclass
class Runtime:
    settings: Settings
    store: Store
    committer: GroupCommitter
    hasher: IdentifierHasher
    connectors: ConnectorPool
    audit: AuditWriter
    policies: PackDirectory

    async def close(self) -> None:
        await self.committer.stop()
        await self.audit.stop()
        await self.connectors.aclose()
        await self.store.close()


async def open_runtime(settings: Settings) -> Runtime:
    settings.home.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    await asyncio.to_thread(upgrade, url)
    data_key = load_data_key(settings.home, settings.data_key)
    store = await open_store(url, data_key)
    committer = GroupCommitter(store)
    await committer.start()
    audit = AuditWriter(store)
    await audit.start()
    policies = pack_directory(settings.policies)
    await asyncio.to_thread(reload_packs, policies)
    return Runtime(
        settings=settings,
        store=store,
        committer=committer,
        hasher=IdentifierHasher(data_key),
        connectors=ConnectorPool(settings),
        audit=audit,
        policies=policies,
    )


def runtime_of(request: Request[Any, Any, Any]) -> Runtime:
    runtime: Runtime = request.app.state["runtime"]
    return runtime
