"""An MLLP sender: one persistent connection, one message at a time, each until its ACK.

Real senders resend a message whose ACK does not come in time, and so does this one (on the
same connection while it lives, on a new one otherwise). An ACK whose MSA-2 names another
message (the late answer to an earlier resend) is skipped and counted, never taken for the
current message's.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

from connectors.hl7v2_mllp.framing import (
    DEFAULT_MAX_MESSAGE_BYTES,
    FramingError,
    MllpReader,
    write_message,
)
from mappings.hl7v2 import Hl7CodecError, header_of, parse


class MllpClientError(Exception):
    """The message could not be delivered and acknowledged."""


class AckTimeout(MllpClientError):
    def __init__(self, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(f"no ACK after {attempts} attempts")


class NotConnected(MllpClientError):
    """The listener could not be reached or closed the connection."""


class TlsRefused(NotConnected):
    """The TLS handshake failed: one side refused the other's certificate (or lack of one)."""


class MllpClient:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        connect_timeout_seconds: float = 10.0,
        ack_timeout_seconds: float = 30.0,
        resends: int = 2,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        if resends < 0:
            raise ValueError("resends must not be negative")
        self._host = host
        self._port = port
        self._tls = tls
        self._server_hostname = server_hostname
        self._connect_timeout = connect_timeout_seconds
        self._ack_timeout = ack_timeout_seconds
        self._resends = resends
        self._max_bytes = max_message_bytes
        self._lock = asyncio.Lock()
        self._reader: MllpReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.resent = 0
        self.unmatched_acks = 0

    async def connect(self) -> None:
        if self._writer is not None and not self._writer.is_closing():
            return
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self._host,
                    self._port,
                    ssl=self._tls,
                    server_hostname=self._server_hostname if self._tls else None,
                )
        except ssl.SSLError as exc:
            raise TlsRefused(f"the TLS handshake failed ({type(exc).__name__})") from None
        except (OSError, TimeoutError) as exc:
            raise NotConnected(f"cannot connect to the listener ({type(exc).__name__})") from None
        self._reader = MllpReader(reader, self._max_bytes)
        self._writer = writer

    async def probe(self, settle_seconds: float = 0.2) -> None:
        """Connect and wait briefly for the listener to drop us, sending nothing.

        Under TLS 1.3 a listener refuses a client certificate only after the handshake has
        completed on the client's side, so a refusal shows as an alert on the first read.
        """
        await self.connect()
        assert self._reader is not None
        try:
            async with asyncio.timeout(settle_seconds):
                closed = await self._reader.read_message() is None
        except TimeoutError:
            return
        except ssl.SSLError as exc:
            await self.aclose()
            raise TlsRefused(
                f"the listener refused the connection ({type(exc).__name__})"
            ) from None
        except (ConnectionError, FramingError):
            closed = True
        if closed:
            await self.aclose()
            if self._tls is not None:
                # A listener drops a fresh TLS client at once only for its certificate.
                raise TlsRefused("the listener closed the TLS connection at once")
            raise NotConnected("the listener closed the connection")

    async def send(self, message: bytes) -> bytes:
        """The ACK answering `message` (its MSA-2 is the message's MSH-10).

        Raises `AckTimeout` when every attempt timed out, `NotConnected` when the listener is
        gone, and `connectors.hl7v2_mllp.framing.FramingError` when it answers broken frames.
        An answer that is not an HL7 message is returned as it came, for the caller to judge.
        """
        header = header_of(message)
        control_id = header.value(10) if header is not None else ""
        async with self._lock:
            for attempt in range(self._resends + 1):
                if attempt:
                    self.resent += 1
                await self.connect()
                assert self._writer is not None
                try:
                    await write_message(self._writer, message)
                    return await self._ack_for(control_id)
                except TimeoutError:
                    continue
                except ssl.SSLError as exc:
                    await self.aclose()
                    raise TlsRefused(f"the listener refused us ({type(exc).__name__})") from None
                except ConnectionError:
                    await self.aclose()
                    if attempt == self._resends:
                        raise NotConnected("the listener closed the connection") from None
            # The listener is stuck on this message: a later one must not queue behind it.
            await self.aclose()
            raise AckTimeout(self._resends + 1)

    async def _ack_for(self, control_id: str) -> bytes:
        assert self._reader is not None
        async with asyncio.timeout(self._ack_timeout):
            while True:
                ack = await self._reader.read_message()
                if ack is None:
                    raise ConnectionResetError("the listener closed the connection")
                if _answers(ack, control_id):
                    return ack
                self.unmatched_acks += 1

    async def aclose(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()


def _answers(ack: bytes, control_id: str) -> bool:
    """Whether `ack` is for this control id; unreadable answers count as answers."""
    try:
        msa = parse(ack).first("MSA")
    except Hl7CodecError:
        return True
    return msa is None or msa.value(2) == control_id
