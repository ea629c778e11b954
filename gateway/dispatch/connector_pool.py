"""Connector instances named in settings, created on first use and shared by all workers."""

from __future__ import annotations

import asyncio

from canonical.cases import CaseType
from connectors.contract import Connector
from connectors.registry import ConnectorRegistry
from gateway.settings import Settings


class ConnectorPool:
    def __init__(self, settings: Settings, registry: ConnectorRegistry | None = None) -> None:
        self._settings = settings
        self._registry = registry or ConnectorRegistry()
        self._instances: dict[str, Connector] = {}
        self._lock = asyncio.Lock()

    @property
    def names(self) -> list[str]:
        return list(self._settings.connectors)

    def route(self, payer_id: str, case_type: CaseType) -> str | None:
        return self._settings.route_for(payer_id, case_type)

    async def get(self, name: str) -> Connector:
        instance = self._instances.get(name)
        if instance is not None:
            return instance
        async with self._lock:
            if name not in self._instances:
                spec = self._settings.connectors[name]
                self._instances[name] = self._registry.create(spec.kind, spec.config)
            return self._instances[name]

    async def check(self, name: str) -> None:
        await (await self.get(name)).check()

    async def aclose(self) -> None:
        for instance in self._instances.values():
            await instance.aclose()
        self._instances.clear()
