"""What a demo flow is: one way cases reach the gateway or leave it, with its own sandboxes.

The demo composes flows so that each channel (the payer REST API, PAS, X12, HL7, ERP...) brings
its own sandbox, settings and traffic without the runner knowing about any of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from gateway.runtime import Runtime
from gateway.settings import Settings


@dataclass
class DemoContext:
    """What a flow may use while it runs: the gateway's API (with a cases:read/write token),
    its address, the running runtime (store, settings) and the demo's data directory."""

    api: httpx.AsyncClient
    base_url: str
    runtime: Runtime
    home: Path
    count: int
    concurrency: int


@dataclass
class FlowResult:
    """Cases a flow got accepted (id -> monotonic time of acceptance) and what it was refused."""

    accepted: dict[str, float] = field(default_factory=dict)
    refused: int = 0


class DemoFlow(Protocol):
    name: str
    weight: int
    """Share of the backlog, relative to the other flows' weights."""

    async def start(self, home: Path) -> None:
        """Start this flow's sandboxes (before the gateway exists)."""

    def configure(self, settings: Settings) -> Settings:
        """Add this flow's connectors, routes and listeners to the demo's settings."""

    async def run(self, ctx: DemoContext) -> FlowResult:
        """Send this flow's share of the backlog; return the cases the gateway accepted."""

    async def report(self, ctx: DemoContext) -> list[str]:
        """Summary lines once every case has settled (what the far side saw)."""

    async def stop(self) -> None:
        """Stop this flow's sandboxes, whatever happened."""
