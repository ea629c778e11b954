"""Each server under test runs in a child process of its own, served the same way.

On two cores, a server that shares its process (and GIL) with the load generator would be
measured together with the client. A child process gives the server a core of its own while
the parent generates load on the other. The bare baseline and the gateway are built, served
(uvicorn through `gateway.serving.start_server`, on uvloop as `casegate serve` runs it) and
driven identically, so only the application differs.

The parent talks to a child over a pipe: the child answers ("ready", port) once it accepts
connections, and then obeys ("profile-on", None), ("profile-off", path) (cProfile of the
event-loop thread, written to path as pstats) and ("stop", None).
"""

from __future__ import annotations

import asyncio
import cProfile
import multiprocessing
import os
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


async def _serve(served: ServedApp, pipe: Connection) -> None:
    from gateway.serving import start_server  # noqa: PLC0415 - imported in the child

    server = await start_server(served.build())
    pipe.send(("ready", server.port))
    profiler = cProfile.Profile()
    try:
        while True:
            # recv blocks, so it waits in a thread; the command then runs on the loop thread,
            # the one cProfile must be switched on in.
            command, argument = await asyncio.to_thread(pipe.recv)
            if command == "stop":
                return
            if command == "profile-on":
                profiler.enable()
            elif command == "profile-off":
                profiler.disable()
                profiler.dump_stats(argument)
                profiler = cProfile.Profile()
            pipe.send(("done", command))
    finally:
        await server.stop()


def _child_main(served: ServedApp, pipe: Connection) -> None:
    try:
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            runner.run(_serve(served, pipe))
    except BaseException as exc:
        pipe.send(("failed", f"{type(exc).__name__}: {exc}"))
        raise
    pipe.send(("stopped", None))


class ServerProcess:
    """A child process serving one app on 127.0.0.1; use as a context manager."""

    def __init__(self, served: ServedApp) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, self._child_end = context.Pipe()
        self._process = context.Process(
            target=_child_main,
            args=(served, self._child_end),
            name=f"bench-{served.kind}",
            daemon=True,
        )
        self.port = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def cpu_seconds(self) -> float | None:
        """CPU time the child has used so far, all threads (None where /proc is missing)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return None
        # utime and stime, the 14th and 15th fields of stat(5), counted after the ")".
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def start(self) -> int:
        self._process.start()
        self._child_end.close()  # so a child that dies unannounced reads as EOF here
        kind, value = self._receive(START_TIMEOUT_SECONDS, "start")
        if kind != "ready":
            raise RuntimeError(f"the server process failed to start: {value}")
        self.port = int(value)
        return self.port

    def profile_on(self) -> None:
        self._command("profile-on", None)

    def profile_off(self, stats_path: Path) -> None:
        """Stop profiling and write what was recorded since `profile_on` to `stats_path`."""
        self._command("profile-off", str(stats_path))

    def _command(self, command: str, argument: str | None) -> None:
        self._pipe.send((command, argument))
        kind, value = self._receive(STOP_TIMEOUT_SECONDS, command)
        if kind != "done":
            raise RuntimeError(f"the server process failed: {value}")

    def stop(self) -> None:
        if self._process.is_alive():
            try:
                self._pipe.send(("stop", None))
                self._receive(STOP_TIMEOUT_SECONDS, "stop")
            except (OSError, RuntimeError):
                pass  # it is going away regardless; terminate below if it lingers
        self._process.join(STOP_TIMEOUT_SECONDS)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)

    def _receive(self, timeout: float, waiting_for: str) -> tuple[str, Any]:
        if not self._pipe.poll(timeout):
            raise RuntimeError(f"the server process did not answer {waiting_for} in {timeout}s")
        try:
            message: tuple[str, Any] = self._pipe.recv()
        except EOFError:
            raise RuntimeError(
                f"the server process exited while waiting for {waiting_for}"
            ) from None
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
