"""A small HTTP/1.1 keep-alive load generator over raw asyncio streams.

httpx spends about a millisecond of CPU per request; on two cores that caps the client below
what uvicorn can serve, and the benchmark would end up measuring its own client. Here every
request is bytes built before the clock starts, and a response is read as a status line,
headers and a Content-Length (or chunked) body: tens of microseconds of CPU per request. The
generator also reports the CPU it used, so the output can show it was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

CONNECTION_FAILED = 0  # the status recorded when the server dropped the connection
RESPONSE_TIMEOUT_SECONDS = 30.0
_MAX_HEAD_BYTES = 64 * 1024


def http_request(
    method: str, path: str, port: int, headers: Mapping[str, str], body: bytes = b""
) -> bytes:
    """One HTTP/1.1 request as wire bytes, for a keep-alive connection to 127.0.0.1:port."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class RoundResult:
    """One round: what came back, how long each request took, and what the client spent."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    client_cpu: float = 0.0

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.completed / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def client_cpu_share(self) -> float:
        """The generator's CPU time over the round's wall time: 1.0 is one core kept busy."""
        return self.client_cpu / self.elapsed if self.elapsed > 0 else 0.0

    def unexpected(self, expected: int) -> dict[int, int]:
        return {status: n for status, n in self.statuses.items() if status != expected}


class _Connection:
    def __init__(self, port: int) -> None:
        self._port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(
            "127.0.0.1", self._port, limit=_MAX_HEAD_BYTES
        )

    async def exchange(self, request: bytes) -> int:
        """Send one request and read its whole response; the status, or 0 if the link broke."""
        if self._writer is None:
            await self.open()
        assert self._reader is not None and self._writer is not None
        try:
            self._writer.write(request)
            async with asyncio.timeout(RESPONSE_TIMEOUT_SECONDS):
                status, keep_alive = await _read_response(self._reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            await self.close()
            return CONNECTION_FAILED
        if not keep_alive:
            await self.close()
        return status

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    chunked = False
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep_alive = b"close" not in value.lower()
    if chunked:
        await _skip_chunks(reader)
    elif length:
        await reader.readexactly(length)
    return status, keep_alive


async def _skip_chunks(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return


async def run_round(
    port: int,
    requests: Sequence[bytes],
    *,
    connections: int = 50,
    time_limit: float = 20.0,
) -> RoundResult:
    """Send `requests` in order over `connections` keep-alive connections, each sending its
    next request as soon as its previous answer is in (a closed loop, as real clients are).

    Stops early, without error, once `time_limit` seconds have passed; the result then counts
    only what completed.
    """
    pool = [_Connection(port) for _ in range(connections)]
    await asyncio.gather(*(c.open() for c in pool))
    result = RoundResult()
    cursor = iter(requests)
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + time_limit

    async def drive(connection: _Connection) -> None:
        for request in cursor:
            started = time.perf_counter()
            status = await connection.exchange(request)
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] += 1
            if loop.time() >= stop_at:
                return

    cpu_before = time.process_time()
    wall_before = time.perf_counter()
    try:
        await asyncio.gather(*(drive(c) for c in pool))
    finally:
        result.elapsed = time.perf_counter() - wall_before
        result.client_cpu = time.process_time() - cpu_before
        await asyncio.gather(*(c.close() for c in pool))
    return result
