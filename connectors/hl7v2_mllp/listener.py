"""An asyncio MLLP server: many persistent connections, each served strictly in order.

The handler decides what a message means and returns the ACK to send; the gateway's handler
returns only after its commit, so an ACK on the wire always means the message is durable. The
listener itself answers only when the handler never got the message (sender not allowed, frame
too large without a `too_large` handler) or failed (an HL7 error it raised, or anything else: an
AR/CR so the sender resends).
Logs carry the peer, counts and sizes, never message content.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from connectors.hl7v2_mllp.acks import (
    internal_error_ack,
    issue_ack,
    not_allowed_ack,
    too_large_ack,
)
from connectors.hl7v2_mllp.allow import AllowedSender, refusal
from connectors.hl7v2_mllp.framing import (
    DEFAULT_MAX_MESSAGE_BYTES,
    FrameTooLarge,
    MllpReader,
    TruncatedFrame,
    write_message,
)
from mappings.hl7v2 import Hl7Error, Sender, header_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Peer:
    """The far end of one connection; `certificate_subject` is its client certificate's CN
    under mutual TLS."""

    host: str
    port: int
    certificate_subject: str | None = None


Handler = Callable[[bytes, Peer], Awaitable[bytes]]
TooLargeHandler = Callable[[bytes, int, Peer], Awaitable[bytes]]
"""Given the first bytes of a skipped over-large frame and its size, returns the reject to send
(the gateway's keeps those bytes with the error first)."""


class MllpListener:
    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        allowed: Sequence[AllowedSender] | None = None,
        idle_timeout_seconds: float = 300.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        ack_sender: Sender | None = None,
        too_large: TooLargeHandler | None = None,
    ) -> None:
        """`allowed=None` takes every sender; an empty sequence takes none."""
        if idle_timeout_seconds <= 0:
            raise ValueError("idle_timeout_seconds must be positive")
        self._handler = handler
        self._host = host
        self._port = port
        self._tls = tls
        self._allowed = tuple(allowed) if allowed is not None else None
        self._idle = idle_timeout_seconds
        self._max_bytes = max_message_bytes
        self._sender = ack_sender or Sender()
        self._too_large = too_large
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.stray_bytes = 0

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the listener is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> int:
        """Listen; returns the port (useful with port 0)."""
        if self._server is None:
            self._server = await asyncio.start_server(
                self._serve, self._host, self._port, ssl=self._tls
            )
        return self.port

    async def aclose(self) -> None:
        """Stop accepting and drop open connections (an in-flight handler is cancelled, so its
        message goes unacknowledged and the sender resends it)."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        peer = _peer(writer)
        frames = MllpReader(reader, self._max_bytes)
        try:
            await self._converse(frames, writer, peer)
        except (ConnectionError, TruncatedFrame, TimeoutError, ssl.SSLError) as exc:
            logger.info("mllp connection from %s ended: %s", peer.host, type(exc).__name__)
        except asyncio.CancelledError:
            pass  # the listener is closing; this task is the connection's top level
        finally:
            self.stray_bytes += frames.stray_bytes
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _converse(self, frames: MllpReader, writer: asyncio.StreamWriter, peer: Peer) -> None:
        while True:
            try:
                async with asyncio.timeout(self._idle):
                    message = await frames.read_message()
            except FrameTooLarge as exc:
                logger.warning("mllp frame of %d bytes from %s refused", exc.size, peer.host)
                if self._too_large is not None:
                    answer = await self._too_large(exc.head, exc.size, peer)
                else:
                    answer = too_large_ack(exc.head, self._sender)
                await write_message(writer, answer)
                continue
            if message is None:
                return
            await write_message(writer, await self._answer(message, peer))

    async def _answer(self, message: bytes, peer: Peer) -> bytes:
        if self._allowed is not None:
            refused = refusal(self._allowed, header_of(message), peer.host)
            if refused is not None:
                logger.warning("mllp message from %s refused by the allow list", peer.host)
                return not_allowed_ack(message, refused.field, self._sender)
        try:
            return await self._handler(message, peer)
        except Hl7Error as exc:
            return issue_ack(message, exc.issues, self._sender)
        except Exception as exc:
            logger.error("mllp handler failed with %s", type(exc).__name__)
            return internal_error_ack(message, self._sender)


def _peer(writer: asyncio.StreamWriter) -> Peer:
    address = writer.get_extra_info("peername") or ("", 0)
    certificate = writer.get_extra_info("peercert")
    subject: str | None = None
    if certificate:
        for rdn in certificate.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    subject = value
    return Peer(host=str(address[0]), port=int(address[1]), certificate_subject=subject)
