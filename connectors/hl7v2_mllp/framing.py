"""MLLP framing: 0x0B, the message, 0x1C 0x0D.

Senders put stray bytes between frames (keep-alive newlines, a half-written frame before a
reconnect); they are skipped and counted rather than treated as an error, so one sloppy
sender does not lose its connection. A frame longer than the limit is skipped as it streams
in, keeping only its first bytes (enough to echo MSH-10 in the reject), so a 20 MB OBX never
sits in memory whole.
"""

from __future__ import annotations

import asyncio

START = b"\x0b"
END = b"\x1c\r"
DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
KEPT_HEAD_BYTES = 4096
_CHUNK_BYTES = 64 * 1024


class FramingError(Exception):
    """The byte stream broke the MLLP rules."""


class FrameTooLarge(FramingError):
    """A whole frame was skipped for its size; `head` is its first bytes, `size` its length."""

    def __init__(self, head: bytes, size: int, limit: int) -> None:
        self.head = head
        self.size = size
        super().__init__(f"an MLLP frame of {size} bytes exceeds the limit of {limit}")


class TruncatedFrame(FramingError):
    """The stream ended inside a frame."""

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(f"the connection closed {size} bytes into an MLLP frame")


def frame(message: bytes) -> bytes:
    """The message wrapped for the wire; one that holds the end marker cannot be framed."""
    if END in message:
        raise ValueError("a message holding 0x1C 0x0D cannot be framed")
    return START + message + END


class MllpReader:
    """Reads complete messages from one stream, in order; `stray_bytes` counts what it skipped."""

    def __init__(
        self, reader: asyncio.StreamReader, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    ) -> None:
        if max_message_bytes < 1:
            raise ValueError("max_message_bytes must be positive")
        self._reader = reader
        self._limit = max_message_bytes
        self._buffer = bytearray()
        self._in_frame = False
        self._scanned = 0  # bytes of the frame already searched for END
        self._skipped = 0  # bytes of an over-large frame already dropped
        self._head = b""
        self.stray_bytes = 0

    async def read_message(self) -> bytes | None:
        """The next message, or None when the stream ends cleanly between frames.

        Raises `FrameTooLarge` once an over-large frame has been skipped (the next call reads
        the frame after it) and `TruncatedFrame` when the stream ends inside a frame.
        """
        while True:
            message = self._take()
            if message is not None:
                return message
            chunk = await self._reader.read(_CHUNK_BYTES)
            if not chunk:
                if self._in_frame:
                    size = self._skipped + len(self._buffer)
                    self._buffer.clear()
                    self._reset_frame()
                    raise TruncatedFrame(size)
                self.stray_bytes += len(self._buffer)
                self._buffer.clear()
                return None
            self._buffer += chunk

    def _take(self) -> bytes | None:
        buffer = self._buffer
        if not self._in_frame:
            start = buffer.find(START)
            if start < 0:
                self.stray_bytes += len(buffer)
                buffer.clear()
                return None
            self.stray_bytes += start
            del buffer[: start + 1]
            self._in_frame = True
        end = buffer.find(END, max(self._scanned - 1, 0))
        if end >= 0:
            size = self._skipped + end
            if size > self._limit:
                head = self._head or bytes(buffer[:KEPT_HEAD_BYTES])
                del buffer[: end + len(END)]
                self._reset_frame()
                raise FrameTooLarge(head, size, self._limit)
            message = bytes(buffer[:end])
            del buffer[: end + len(END)]
            self._reset_frame()
            return message
        if self._skipped + len(buffer) > self._limit + 1:
            # Keep only the last byte: it may be the 0x1C of an END split across reads.
            if not self._head:
                self._head = bytes(buffer[:KEPT_HEAD_BYTES])
            self._skipped += len(buffer) - 1
            del buffer[:-1]
        self._scanned = len(buffer)
        return None

    def _reset_frame(self) -> None:
        self._in_frame = False
        self._scanned = 0
        self._skipped = 0
        self._head = b""


async def write_message(writer: asyncio.StreamWriter, message: bytes) -> None:
    writer.write(frame(message))
    await writer.drain()
