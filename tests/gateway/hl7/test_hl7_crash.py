"""kill -9 between receiving an order and committing it: no ACK was sent, and the sender's resend
to the restarted gateway is stored once.

The gateway runs as its own process (`casegate serve` with the listener on). The test holds the
SQLite write lock, so the gateway receives the order and waits to commit it; it is killed right
there. After the restart the resend opens the case; a second resend gets the same ACK.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from pathlib import Path

import pytest

from connectors.hl7v2_mllp.framing import frame
from mappings.hl7v2 import parse
from tests.connectors.hl7v2_mllp.support import RawSender, golden
from tests.gateway.api.support import free_port
from tests.gateway.hl7.conftest import ORDER
from tests.gateway.process_support import ServeProcess

pytestmark = pytest.mark.slow


class GatewayProcess(ServeProcess):
    """Ready once its MLLP listener accepts connections."""

    def __init__(self, home: Path, config: Path) -> None:
        self.hl7_port = free_port()
        config.write_text(
            json.dumps(
                {
                    "workers": {"in_process": False},
                    "hl7": {"enabled": True, "port": self.hl7_port},
                }
            )
        )
        super().__init__(home, config, free_port())

    def ready(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.hl7_port), timeout=1).close()
        except OSError:
            return False
        return True


def _count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def _send(port: int, message: bytes, timeout: float) -> bytes | None:
    raw = await RawSender.open(port)
    try:
        raw.writer.write(frame(message))
        await raw.writer.drain()
        async with asyncio.timeout(timeout):
            return await raw.frames.read_message()
    except (TimeoutError, ConnectionError):
        return None
    finally:
        raw.writer.close()


async def test_a_kill_before_the_commit_sends_no_ack_and_the_resend_is_stored_once(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    database = home / "casegate.db"
    gateway = GatewayProcess(home, tmp_path / "casegate.yaml")
    order = golden(ORDER)
    gateway.start()
    try:
        lock = sqlite3.connect(database, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # the gateway's commit now waits for this lock
        pending = asyncio.create_task(_send(gateway.hl7_port, order, timeout=10))
        await asyncio.sleep(1.0)  # received, parsed, waiting to commit
        assert not pending.done()
        gateway.kill()
        assert await pending is None  # no ACK: the sender will resend
        lock.execute("ROLLBACK")
        lock.close()
        assert _count(database, "messages") == 0
        assert _count(database, "cases") == 0

        gateway.start()
        first = await _send(gateway.hl7_port, order, timeout=10)
        again = await _send(gateway.hl7_port, order, timeout=10)
    finally:
        gateway.stop()
    assert first is not None and first == again
    msa = parse(first).first("MSA")
    assert msa is not None and (msa.value(1), msa.value(2)) == ("CA", "ORD000123")
    assert _count(database, "messages") == 1
    assert _count(database, "cases") == 1
    assert _count(database, "hl7_cases") == 1
