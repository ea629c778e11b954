"""A fake X12 clearinghouse for tests and the demo: CORE real time, SFTP and a shared folder.

One ledger judges every interchange, whichever way it came (see `sandbox_ledger`); the
real-time desk answers over HTTP, the batch clerk answers uploaded files, and 835/277 files
are left for pickup with `leave_report`. It is its own `connectors.sandbox.SandboxControl`.

    with X12ClearinghouseSandbox(root, rules, users={"casegate": SecretRef("env:X")}) as ch:
        ch.base_url, ch.sftp_port, ch.public_host_key
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from connectors.loopback import ServerTls
from connectors.payer_rest.sandbox_auth import SandboxClient, TokenIssuer
from connectors.payer_rest.sandbox_rules import Rule
from connectors.sandbox_kit import DEFAULT_HANG_SECONDS, DEFAULT_TOKEN_TTL_SECONDS, Hold
from connectors.sandbox_server import LoopbackSandbox
from connectors.secrets import SecretRef
from connectors.x12_clearinghouse.sandbox_batch import BatchClerk, SftpSandboxServer
from connectors.x12_clearinghouse.sandbox_http import CORE_PATH, RealTimeDesk, build_app
from connectors.x12_clearinghouse.sandbox_ledger import ClearinghouseLedger

DEFAULT_INTERCHANGE_ID = "CLEARINGHOUSE"


class X12ClearinghouseSandbox(LoopbackSandbox):
    def __init__(
        self,
        root: Path,
        rules: Sequence[Rule] = (),
        *,
        users: Mapping[str, SecretRef],
        oauth_clients: Sequence[SandboxClient] = (),
        interchange_id: str = DEFAULT_INTERCHANGE_ID,
        known_senders: frozenset[str] | None = None,
        tls: ServerTls | None = None,
        sftp: bool = True,
        hang_seconds: float = DEFAULT_HANG_SECONDS,
    ) -> None:
        self.ledger = ClearinghouseLedger(
            rules, interchange_id=interchange_id, known_senders=known_senders
        )
        issuer = (
            TokenIssuer(list(oauth_clients), DEFAULT_TOKEN_TTL_SECONDS) if oauth_clients else None
        )
        hold = Hold(hang_seconds)
        self._desk = RealTimeDesk(
            self.ledger,
            users,
            issuer,
            certificates_trusted=tls is not None and tls.client_ca_file is not None,
            hold=hold,
        )
        super().__init__(build_app(self._desk), hold, self.ledger.faults, tls=tls)
        self.clerk = BatchClerk(root, self.ledger)
        self._sftp = SftpSandboxServer(root, users) if sftp else None
        self.root = root

    @property
    def base_url(self) -> str:
        """The CORE real-time endpoint."""
        return super().base_url + CORE_PATH

    @property
    def token_url(self) -> str:
        return super().base_url + "/oauth/token"

    @property
    def sftp_port(self) -> int:
        if self._sftp is None:
            raise RuntimeError("this sandbox runs without SFTP")
        return self._sftp.port

    @property
    def public_host_key(self) -> str:
        if self._sftp is None:
            raise RuntimeError("this sandbox runs without SFTP")
        return self._sftp.public_host_key

    def start(self) -> str:
        super().start()
        self.clerk.start()
        if self._sftp is not None:
            self._sftp.start()
        return self.base_url

    def stop(self) -> None:
        super().stop()
        self.clerk.stop()
        if self._sftp is not None:
            self._sftp.stop()

    def effects(self, key: str | None = None) -> int:
        """Payloads acted on: under `key` (an idempotency key or a payload id), or in all."""
        return self.ledger.effects(key)

    def reset(self) -> None:
        self.ledger.reset()

    def leave_report(self, name: str, data: bytes) -> Path:
        return self.clerk.leave_report(name, data)
