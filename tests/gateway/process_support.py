"""`casegate serve` as a process of its own, so a crash test can kill -9 it and start it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


class ServeProcess:
    """The gateway on `http_port`, with CASEGATE_HOME and CASEGATE_CONFIG as given.

    Its stderr is kept next to the config, so a gateway that exits during start-up fails the
    test with its own words.
    """

    def __init__(self, home: Path, config: Path, http_port: int) -> None:
        self.base_url = f"http://127.0.0.1:{http_port}"
        self._http_port = http_port
        self._env = {**os.environ, "CASEGATE_HOME": str(home), "CASEGATE_CONFIG": str(config)}
        self._errors = config.with_name("gateway.stderr")
        self._process: subprocess.Popen[bytes] | None = None

    def ready(self) -> bool:
        """Whether the gateway answers; a test that waits on another listener says so here."""
        try:
            return httpx.get(f"{self.base_url}/health/live", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def start(self, timeout: float = 60) -> None:
        command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(self._http_port)]
        with self._errors.open("ab") as errors:
            process = subprocess.Popen(
                command, env=self._env, stdout=subprocess.DEVNULL, stderr=errors
            )
        self._process = process
        deadline = time.monotonic() + timeout
        while not self.ready():
            exited = process.poll() is not None
            assert not exited, f"gateway exited: {self._errors.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "gateway did not start"
            time.sleep(0.1)

    def kill(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=20)
