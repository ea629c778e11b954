"""Each server under test runs in a child process of its own, served the same way.

On two cores, a server that shares its process (and GIL) with the load generator would be
measured together with the client. A child process gives the server a core of its own while
the parent generates load on the other. The bare baseline and the gateway are built, served
(uvicorn through `gateway.serving.start_server`, on uvloop as `casegate serve` runs it) and
driven identically, so only the application differs.

The parent reads what a child spent during a round: CPU time from /proc, and time in Python's
garbage collector, which the child clocks itself (a full collection stops every request in
flight, so it shows in the tail latency long before it shows in the throughput). A sampling
profiler charges a collection to whatever allocation triggered it, so for a profiled round the
collector can be switched off. Over a pipe, the child answers ("ready", port) once it accepts
connections, and then obeys ("gc", None), ("collector", "on" | "off") and ("stop", None).
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from gateway.settings import Settings

START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 60.0
OLDEST_GENERATION = 2


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


@dataclass(frozen=True)
class ServerUsage:
    """What a server process has spent so far; subtract two readings to price a round."""

    cpu_seconds: float
    gc_seconds: float
    full_collections: int
    full_collection_seconds: float

    def __sub__(self, earlier: ServerUsage) -> ServerUsage:
        return ServerUsage(
            cpu_seconds=self.cpu_seconds - earlier.cpu_seconds,
            gc_seconds=self.gc_seconds - earlier.gc_seconds,
            full_collections=self.full_collections - earlier.full_collections,
            full_collection_seconds=self.full_collection_seconds - earlier.full_collection_seconds,
        )


class _CollectorClock:
    """A `gc.callbacks` hook adding up collections and their pauses, per generation."""

    def __init__(self) -> None:
        self._started = 0.0
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        self.count[generation] += 1
        self.seconds[generation] += time.perf_counter() - self._started


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop  # noqa: PLC0415 - optional, as it is for uvicorn
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def loop_name() -> str:
    return "uvloop" if _event_loop_factory() is not asyncio.new_event_loop else "asyncio"


async def _serve(served: ServedApp, pipe: Connection, collector: _CollectorClock) -> None:
    from gateway.serving import start_server  # noqa: PLC0415 - imported in the child

    server = await start_server(served.build())
    pipe.send(("ready", server.port))
    try:
        while True:
            command, argument = await asyncio.to_thread(pipe.recv)  # blocks: wait in a thread
            if command == "stop":
                return
            if command == "collector":
                (gc.enable if argument == "on" else gc.disable)()
                pipe.send(("done", gc.isenabled()))
            elif command == "gc":
                totals = (
                    sum(collector.seconds),
                    collector.count[OLDEST_GENERATION],
                    collector.seconds[OLDEST_GENERATION],
                )
                pipe.send(("done", totals))
            else:
                pipe.send(("failed", f"unknown command {command!r}"))
    finally:
        await server.stop()


def _child_main(served: ServedApp, pipe: Connection) -> None:
    collector = _CollectorClock()
    gc.callbacks.append(collector)
    try:
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            runner.run(_serve(served, pipe, collector))
    except BaseException as exc:
        pipe.send(("failed", f"{type(exc).__name__}: {exc}"))
        raise
    pipe.send(("stopped", None))


def _process_cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of `pid`, from stat(5) (fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    def pid(self) -> int:
        if self._process.pid is None:
            raise RuntimeError("the server process has not been started")
        return self._process.pid

    def start(self) -> int:
        self._process.start()
        self._child_end.close()  # so a child that dies unannounced reads as EOF here
        kind, value = self._receive(START_TIMEOUT_SECONDS, "start")
        if kind != "ready":
            raise RuntimeError(f"the server process failed to start: {value}")
        self.port = int(value)
        return self.port

    def usage(self) -> ServerUsage | None:
        """CPU and collector time so far; None where /proc cannot be read."""
        try:
            cpu = _process_cpu_seconds(self.pid)
        except OSError:
            return None
        gc_seconds, full_collections, full_seconds = self._command("gc", None)
        return ServerUsage(cpu, gc_seconds, full_collections, full_seconds)

    @contextmanager
    def collector_off(self) -> Iterator[None]:
        """Python's garbage collector switched off in the child for the block."""
        self._command("collector", "off")
        try:
            yield
        finally:
            self._command("collector", "on")

    def _command(self, command: str, argument: str | None) -> Any:
        self._pipe.send((command, argument))
        kind, value = self._receive(STOP_TIMEOUT_SECONDS, command)
        if kind != "done":
            raise RuntimeError(f"the server process failed: {value}")
        return value

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
