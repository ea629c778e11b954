"""Each server under test runs in a child process of its own, served the same way.

On two cores, a server that shares its process (and GIL) with the load generator would be
measured together with the client. A child process gives the server a core of its own while
the parent generates load on the other. The bare baseline and the gateway are built, served
(uvicorn through `gateway.serving.start_server`, on uvloop as `casegate serve` runs it) and
driven identically, so only the application differs.

The parent talks to a child over a pipe: the child answers ("ready", port) once it accepts
connections, and then obeys "profile-on", "profile-off" (cProfile of the event-loop thread,
written as pstats) and "stop".
"""

from __future__ import annotations

import asyncio
import cProfile
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from gateway.settings import Settings

START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class ServedApp:
    """What a child serves: the bare baseline, or the gateway built from these settings."""

    kind: Literal["bare", "gateway"]
    settings: Settings | None = None

    def build(self) -> Any:
        if self.kind == "bare":
            from bench.bare_app import create_bare_app  # noqa: PLC0415 - imported in the child

            return create_bare_app()
        from gateway.app import create_app  # noqa: PLC0415 - imported in the child

        return create_app(self.settings)


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop  # noqa: PLC0415 - optional, as it is for uvicorn
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def loop_name() -> str:
    return "uvloop" if _event_loop_factory() is not asyncio.new_event_loop else "asyncio"


async def _serve(served: ServedApp, pipe: Connection, profile_path: Path | None) -> None:
    from gateway.serving import start_server  # noqa: PLC0415 - imported in the child

    server = await start_server(served.build())
    pipe.send(("ready", server.port))
    profiler = cProfile.Profile()
    try:
        while True:
            # recv blocks, so it waits in a thread; the command then runs on the loop thread,
            # the one cProfile must be switched on in.
            command = await asyncio.to_thread(pipe.recv)
            if command == "stop":
                return
            if command == "profile-on":
                profiler.enable()
            elif command == "profile-off":
                profiler.disable()
                if profile_path is not None:
                    profiler.dump_stats(profile_path)
                profiler = cProfile.Profile()
            pipe.send(("done", command))
    finally:
        await server.stop()


def _child_main(served: ServedApp, pipe: Connection, profile_path: Path | None) -> None:
    try:
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            runner.run(_serve(served, pipe, profile_path))
    except BaseException as exc:
        pipe.send(("failed", f"{type(exc).__name__}: {exc}"))
        raise
    pipe.send(("stopped", None))


class ServerProcess:
    """A child process serving one app on 127.0.0.1; use as a context manager."""

    def __init__(self, served: ServedApp, *, profile_path: Path | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child_end = context.Pipe()
        self._profile_path = profile_path
        self._process = context.Process(
            target=_child_main,
            args=(served, child_end, profile_path),
            name=f"bench-{served.kind}",
            daemon=True,
        )
        self.port = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self) -> int:
        self._process.start()
        kind, value = self._receive(START_TIMEOUT_SECONDS, "start")
        if kind != "ready":
            raise RuntimeError(f"the server process failed to start: {value}")
        self.port = int(value)
        return self.port

    def command(self, command: Literal["profile-on", "profile-off"]) -> None:
        self._pipe.send(command)
        kind, value = self._receive(STOP_TIMEOUT_SECONDS, command)
        if kind != "done":
            raise RuntimeError(f"the server process failed: {value}")

    def stop(self) -> None:
        if self._process.is_alive():
            self._pipe.send("stop")
            self._receive(STOP_TIMEOUT_SECONDS, "stop")
        self._process.join(STOP_TIMEOUT_SECONDS)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)

    def _receive(self, timeout: float, waiting_for: str) -> tuple[str, Any]:
        if not self._pipe.poll(timeout):
            raise RuntimeError(f"the server process did not answer {waiting_for} in {timeout}s")
        message: tuple[str, Any] = self._pipe.recv()
        return message

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
