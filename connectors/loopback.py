"""Serves an ASGI app on a loopback port, from a background thread or as the main program.

Sandboxes must be real servers (the connector's HTTP stack, timeouts and TLS are part of what
is tested) yet start in a test's own process in well under a second, independent of the test's
event loop; and the same sandbox must also run as a separate process that outlives a killed
gateway. Binding the socket here, before the server starts, lets port 0 pick a free port and
report it at once.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

STARTUP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class ServerTls:
    """Serve https; with `client_ca_file`, demand a client certificate signed by it."""

    certfile: Path
    keyfile: Path
    client_ca_file: Path | None = None


class LoopbackServer:
    def __init__(
        self,
        app: Callable[..., Any],
        *,
        port: int = 0,
        tls: ServerTls | None = None,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self._app = app
        self._port = port
        self._tls = tls
        self._on_stop = on_stop
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._socket is None:
            raise RuntimeError("the server is not bound yet")
        port = self._socket.getsockname()[1]
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{port}"

    def bind(self) -> str:
        """Take the port now (connections queue until serving starts) and return the URL."""
        if self._socket is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self._port))
            sock.listen(2048)
            self._socket = sock
            self._server = uvicorn.Server(self._config())
        return self.base_url

    def start(self) -> str:
        """Serve from a daemon thread; returns once the server accepts requests."""
        base_url = self.bind()
        assert self._server is not None and self._socket is not None
        server, sock = self._server, self._socket
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            name=f"loopback-server-{sock.getsockname()[1]}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the loopback server did not start")
            time.sleep(0.01)
        return base_url

    def run(self) -> None:
        """Serve in the calling (main) thread until SIGINT or SIGTERM."""
        self.bind()
        assert self._server is not None and self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        finally:
            if self._on_stop is not None:
                self._on_stop()

    def stop(self) -> None:
        if self._on_stop is not None:
            self._on_stop()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
        self._socket = None
        self._server = None

    def _config(self) -> uvicorn.Config:
        tls = self._tls
        return uvicorn.Config(
            self._app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
            ssl_certfile=str(tls.certfile) if tls else None,
            ssl_keyfile=str(tls.keyfile) if tls else None,
            ssl_ca_certs=str(tls.client_ca_file) if tls and tls.client_ca_file else None,
            ssl_cert_reqs=ssl.CERT_REQUIRED if tls and tls.client_ca_file else ssl.CERT_NONE,
        )
