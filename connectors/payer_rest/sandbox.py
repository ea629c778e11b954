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
from collections.abc import Sequence
from pathlib import Path

from pydantic import TypeAdapter

from connectors.loopback import ServerTls
from connectors.payer_rest.sandbox_app import SandboxRuntime, build_app
from connectors.payer_rest.sandbox_auth import SandboxClient, TokenIssuer
from connectors.payer_rest.sandbox_ledger import PayerLedger
from connectors.payer_rest.sandbox_rules import Rule
from connectors.sandbox_kit import DEFAULT_HANG_SECONDS, DEFAULT_TOKEN_TTL_SECONDS, Hold
from connectors.sandbox_server import PayerSandbox, load_list
from connectors.secrets import SecretRef

DEFAULT_CLIENT = SandboxClient(
    client_id="casegate", client_secret=SecretRef("env:PAYER_REST_SANDBOX_CLIENT_SECRET")
)


class PayerRestSandbox(PayerSandbox):
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
        issuer = TokenIssuer(list(clients), token_ttl_seconds)
        ledger = PayerLedger(list(rules))
        hold = Hold(hang_seconds)
        app = build_app(SandboxRuntime(ledger, issuer, hold))
        super().__init__(app, hold, ledger, issuer, port=port, tls=tls)


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
        load_list(args.rules, TypeAdapter(list[Rule]), "rules") if args.rules else [],
        (
            load_list(args.clients, TypeAdapter(list[SandboxClient]), "clients")
            if args.clients
            else [DEFAULT_CLIENT]
        ),
        port=args.port,
        token_ttl_seconds=args.token_ttl,
        hang_seconds=args.hang_seconds,
    )
    sandbox.run_announced()


if __name__ == "__main__":
    main()
