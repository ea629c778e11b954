"""Serving an ASGI app with uvicorn inside a running event loop, on a port the OS picks if asked.

The demo and the end-to-end tests run the gateway next to its sandboxes in one process this way.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import uvicorn
from litestar.types import ASGIApp


@dataclass
class RunningServer:
    server: uvicorn.Server
    task: asyncio.Task[None]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def start_server(app: ASGIApp, port: int = 0, host: str = "127.0.0.1") -> RunningServer:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return RunningServer(server=server, task=task, port=int(bound))
