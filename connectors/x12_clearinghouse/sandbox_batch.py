"""The clearinghouse sandbox's batch side: an SFTP server over a folder, and the folder's clerk.

The clerk polls the upload folder, answers each complete file through the same ledger as the
real-time desk, and writes the answer under the same name in the response folder; the SFTP
server (asyncssh, password or key login, jailed in the folder) is one way to reach the folder,
sharing it as a directory is the other. Faults act on the next uploads: `timeout` leaves a file
unanswered, `lost_response` acts on it without answering, `bad_request` refuses it with a TA1,
`malformed` and `off_contract` answer with bytes that are not the expected answer.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import asyncssh

from connectors.sandbox import Fault
from connectors.secrets import SecretRef, SecretUnavailableError
from connectors.x12_clearinghouse.batch import FILE_SUFFIX
from connectors.x12_clearinghouse.drops import PARTIAL_SUFFIX
from connectors.x12_clearinghouse.sandbox_ledger import ClearinghouseLedger
from mappings.x12 import ta1_for_unreadable

FOLDERS = ("inbound", "responses", "outbound")
UPLOADS, RESPONSES, REPORTS = FOLDERS


def write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    partial.write_bytes(data)
    partial.replace(path)


class BatchClerk:
    """Answers uploaded files from a background thread until stopped."""

    def __init__(self, root: Path, ledger: ClearinghouseLedger, poll_seconds: float = 0.02) -> None:
        self.root = root
        self._ledger = ledger
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        for folder in FOLDERS:
            (root / folder).mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="x12-batch-clerk", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self._poll):
            self.work()

    def work(self) -> None:
        """Answer every complete upload once."""
        for upload in sorted((self.root / UPLOADS).glob(f"*{FILE_SUFFIX}")):
            try:
                data = upload.read_bytes()
                upload.unlink()
            except OSError:
                continue
            self._handle(upload.name, data)

    def _handle(self, name: str, data: bytes) -> None:
        target = self.root / RESPONSES / name
        payload_id = name.removesuffix(FILE_SUFFIX)
        queued = self._ledger.faults.take()
        fault = queued.fault if queued is not None else None
        if fault is Fault.timeout:
            return
        if fault is Fault.bad_request:
            write_atomically(target, _refusal(data))
            return
        if fault is Fault.malformed:
            write_atomically(target, b"<html>rejected " + data[:200])
            return
        if fault is Fault.off_contract:
            write_atomically(target, data)  # its own request echoed: no answer in it
            return
        answer = self._ledger.answer(payload_id, data)
        if fault is not Fault.lost_response:
            write_atomically(target, answer.data)

    def leave_report(self, name: str, data: bytes) -> Path:
        """Put an unsolicited file (an 835, a 277) where the gateway picks them up."""
        path = self.root / REPORTS / name
        write_atomically(path, data)
        return path


def _refusal(data: bytes) -> bytes:
    """A TA1 refusing the interchange for invalid content."""
    return ta1_for_unreadable(data, "024", control_number=1, created=datetime.now(UTC)) or b""


class SftpSandboxServer:
    """An SFTP server on loopback, from its own thread and event loop."""

    def __init__(
        self,
        root: Path,
        users: Mapping[str, SecretRef],
        *,
        authorized_keys: Mapping[str, str] | None = None,
        port: int = 0,
    ) -> None:
        self.root = root
        self._users = dict(users)
        self._authorized = {
            user: asyncssh.import_public_key(key) for user, key in (authorized_keys or {}).items()
        }
        self._port = port
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncssh.SSHAcceptor | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def public_host_key(self) -> str:
        return self.host_key.export_public_key().decode().strip()

    def start(self) -> int:
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        def serve() -> None:
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(self._listen())
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=serve, name="x12-sftp-sandbox", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the SFTP sandbox did not start")
        return self.port

    async def _listen(self) -> asyncssh.SSHAcceptor:
        root = str(self.root).encode()
        users, authorized = self._users, self._authorized

        class Jailed(asyncssh.SFTPServer):
            def __init__(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
                super().__init__(chan, chroot=root)

        class Login(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                expected = users.get(username)
                if expected is None:
                    return False
                try:
                    return hmac.compare_digest(expected.resolve().encode(), password.encode())
                except SecretUnavailableError:
                    return False

            def public_key_auth_supported(self) -> bool:
                return bool(authorized)

            def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
                known = authorized.get(username)
                return known is not None and known.public_data == key.public_data

        return await asyncssh.create_server(
            Login,
            "127.0.0.1",
            self._port,
            server_host_keys=[self.host_key],
            sftp_factory=Jailed,
            allow_scp=False,
        )

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is None:
            return
        if server is not None:
            server.close()
            asyncio.run_coroutine_threadsafe(server.wait_closed(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop = self._server = self._thread = None
