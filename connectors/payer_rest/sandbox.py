"""A fake payer with a JSON REST prior-authorization API, for tests and the demo.

A real HTTP server on loopback with its own OAuth2 token endpoint, rule-driven adjudication,
idempotent effects and fault injection (see `connectors.sandbox.SandboxControl`). Use it in
process (`PayerRestSandbox(rules, clients).start()`) or as its own process, which keeps
counting effects while a crash test kills and restarts the gateway:

    python -m connectors.payer_rest.sandbox --port 0 [--rules rules.yaml] [--clients c.yaml]

Without `--clients` it knows one client, `casegate`, whose secret it reads from the environment
variable PAYER_REST_SANDBOX_CLIENT_SECRET. The process prints one JSON line with the bound
`base_url` once it accepts connections, and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from connectors.loopback import LoopbackServer, ServerTls
from connectors.payer_rest.sandbox_app import SandboxRuntime, build_app
from connectors.payer_rest.sandbox_auth import SandboxClient, TokenIssuer
from connectors.payer_rest.sandbox_ledger import PayerLedger
from connectors.payer_rest.sandbox_rules import Rule
from connectors.sandbox import Fault
from connectors.secrets import SecretRef

T = TypeVar("T")
DEFAULT_CLIENT = SandboxClient(
    client_id="casegate", client_secret=SecretRef("env:PAYER_REST_SANDBOX_CLIENT_SECRET")
)
DEFAULT_TOKEN_TTL_SECONDS = 300.0
DEFAULT_HANG_SECONDS = 30.0


class PayerRestSandbox:
    """The fake payer; also its own `SandboxControl`, in memory."""

    def __init__(
        self,
        rules: Sequence[Rule] = (),
        clients: Sequence[SandboxClient] = (),
        *,
        port: int = 0,
        token_ttl_seconds: float = DEFAULT_TOKEN_TTL_SECONDS,
        hang_seconds: float = DEFAULT_HANG_SECONDS,
        tls: ServerTls | None = None,
    ) -> None:
        if not clients:
            raise ValueError("the sandbox needs at least one client to issue tokens to")
        self._issuer = TokenIssuer(list(clients), token_ttl_seconds)
        self._ledger = PayerLedger(list(rules))
        self._runtime = SandboxRuntime(self._ledger, self._issuer, hang_seconds)
        self._server = LoopbackServer(
            build_app(self._runtime), port=port, tls=tls, on_stop=self._runtime.released.set
        )

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def start(self) -> str:
        self._runtime.released.clear()
        return self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def run(self) -> None:
        """Serve in this (main) thread until interrupted."""
        self._server.run()

    def bind(self) -> str:
        return self._server.bind()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(
        self, fault: Fault, count: int = 1, *, target: str = "api", retry_after: int = 1
    ) -> None:
        """Misbehave on the next `count` API calls (or token requests, with target="token")."""
        if target not in ("api", "token"):
            raise ValueError("target must be 'api' or 'token'")
        self._ledger.inject(fault, count, target, retry_after)

    def effects(self, key: str | None = None) -> int:
        if key is not None:
            count: int = self._ledger.effects_of(key)["effects"]
            return count
        total: int = self._report()["totals"]["effects"]
        return total

    def duplicates(self, key: str) -> int:
        count: int = self._ledger.effects_of(key)["duplicates"]
        return count

    def token_requests(self) -> int:
        """Tokens issued since the last reset: what a token cache exists to keep low."""
        return self._issuer.issued

    def report(self) -> dict[str, Any]:
        """What `GET /_sandbox/effects` answers: totals, per key and per request id."""
        return self._report()

    def reset(self) -> None:
        self._ledger.reset()
        self._issuer.reset_count()

    def _report(self) -> dict[str, Any]:
        return self._ledger.report(self._issuer.issued)


def _load_list(path: Path, adapter: TypeAdapter[list[T]], what: str) -> list[T]:
    """A YAML or JSON list; errors name the file and the entries, not the values."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        raise SystemExit(f"{what} file {path} cannot be read as YAML or JSON") from None
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        where = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise SystemExit(f"{what} file {path} is invalid at: {', '.join(where)}") from None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.payer_rest.sandbox", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--clients", type=Path, help="YAML/JSON client list (default: casegate)")
    parser.add_argument("--rules", type=Path, help="YAML/JSON rule list (default: approve)")
    parser.add_argument("--token-ttl", type=float, default=DEFAULT_TOKEN_TTL_SECONDS)
    parser.add_argument("--hang-seconds", type=float, default=DEFAULT_HANG_SECONDS)
    args = parser.parse_args(argv)
    sandbox = PayerRestSandbox(
        _load_list(args.rules, TypeAdapter(list[Rule]), "rules") if args.rules else [],
        (
            _load_list(args.clients, TypeAdapter(list[SandboxClient]), "clients")
            if args.clients
            else [DEFAULT_CLIENT]
        ),
        port=args.port,
        token_ttl_seconds=args.token_ttl,
        hang_seconds=args.hang_seconds,
    )
    base_url = sandbox.bind()
    sys.stdout.write(json.dumps({"base_url": base_url}) + "\n")
    sys.stdout.flush()
    sandbox.run()


if __name__ == "__main__":
    main()
