"""The payer sandbox for the end-to-end figure, in a process of its own.

Run in a thread of the gateway's process (as the demo does), the fake payer would share the
gateway's GIL and its cost would count as the gateway's. In its own process it costs the gateway
and the direct-to-payer baseline the same, so the ratio between them holds. Its rules are a
payer's usual mix: most approved, one service denied, imaging pended and approved on the first
inquiry, a drug's units cut.
"""

from __future__ import annotations

import json
import secrets
import select
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Self

from connectors.payer_rest.sandbox_rules import Rule

CLIENT_ID = "casegate-bench"
START_TIMEOUT_SECONDS = 60.0

RULES = [
    Rule(procedure_code="43644", decide="deny", reason_code="N", reason_text="Not covered"),
    Rule(procedure_code="70553", decide="pend", then="approve", decide_after_inquiries=1),
    Rule(procedure_code="72148", decide="pend", then="approve", decide_after_inquiries=1),
    Rule(procedure_code="J9035", decide="partial", approved_units=Decimal(2)),
]


class PayerProcess:
    """`python -m connectors.payer_rest.sandbox` on a free loopback port; a context manager."""

    def __init__(self, home: Path) -> None:
        self.secret_file = home / "payer-client-secret"
        self._clients_file = home / "payer-clients.json"
        self._rules_file = home / "payer-rules.json"
        self._process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def start(self) -> str:
        self.secret_file.write_text(secrets.token_urlsafe(24))
        self.secret_file.chmod(0o600)
        clients = [{"client_id": CLIENT_ID, "client_secret": f"file:{self.secret_file}"}]
        self._clients_file.write_text(json.dumps(clients))
        rules = [rule.model_dump(mode="json", exclude_defaults=True) for rule in RULES]
        self._rules_file.write_text(json.dumps(rules))
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "connectors.payer_rest.sandbox",
                "--port",
                "0",
                "--clients",
                str(self._clients_file),
                "--rules",
                str(self._rules_file),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        stdout = self._process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], START_TIMEOUT_SECONDS)
        try:
            self.base_url = str(json.loads(stdout.readline() if ready else "")["base_url"])
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise RuntimeError("the payer sandbox did not report its address") from None
        return self.base_url

    @property
    def client_secret(self) -> str:
        return self.secret_file.read_text()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

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
