"""A fake payer with a Da Vinci PAS FHIR API, for tests and the demo.

A real HTTP server on loopback: `Claim/$submit`, `Claim/$inquire`, eligibility, a
CapabilityStatement, a SMART Backend Services token endpoint that verifies client assertions
against each client's JWKS URL, rest-hook Subscriptions notified with full PAS response bundles,
rule-driven adjudication, idempotent effects and fault injection (see
`connectors.sandbox.SandboxControl`). Use it in process
(`FhirPasSandbox(rules, clients).start()`) or as its own process:

    python -m connectors.fhir_pas.sandbox --port 0 --jwks-url URL [--client-id ID] [--rules F]

The process prints one JSON line with the bound `base_url` once it accepts connections, and
stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from pydantic import TypeAdapter

from connectors.fhir_pas.sandbox_app import SandboxRuntime, build_app
from connectors.fhir_pas.sandbox_auth import JwksTokenIssuer, SmartClient
from connectors.fhir_pas.sandbox_payer import Notification, PasPayer, Subscription
from connectors.loopback import ServerTls
from connectors.payer_rest.sandbox_rules import Rule
from connectors.sandbox_kit import DEFAULT_HANG_SECONDS, DEFAULT_TOKEN_TTL_SECONDS, Hold
from connectors.sandbox_server import PayerSandbox, load_list

TOKEN_PATH = "/auth/token"  # noqa: S105 (a URL path, not a credential)


class FhirPasSandbox(PayerSandbox):
    """The fake PAS payer; also its own `SandboxControl`, in memory."""

    def __init__(
        self,
        rules: Sequence[Rule] = (),
        clients: Sequence[SmartClient] = (),
        *,
        port: int = 0,
        token_ttl_seconds: float = DEFAULT_TOKEN_TTL_SECONDS,
        hang_seconds: float = DEFAULT_HANG_SECONDS,
        tls: ServerTls | None = None,
    ) -> None:
        if not clients:
            raise ValueError("the sandbox needs at least one client to issue tokens to")
        issuer = JwksTokenIssuer(list(clients), token_ttl_seconds)
        self._payer = PasPayer(list(rules))
        hold = Hold(hang_seconds)
        app = build_app(SandboxRuntime(self._payer, issuer, hold))
        super().__init__(app, hold, self._payer, issuer, port=port, tls=tls)

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    def bind(self) -> str:
        base_url = super().bind()
        self._payer.base_url = base_url
        return base_url

    # -- beyond the common controls ---------------------------------------------------------

    def drop_notifications(self, drop: bool = True) -> None:
        """Decide as usual but deliver no notifications (what a lost one looks like)."""
        self._payer.drop_notifications = drop

    def notifications(self) -> list[Notification]:
        """Every notification delivered since the last reset, oldest first."""
        return self._payer.sent()

    def subscriptions(self) -> list[Subscription]:
        return self._payer.subscriptions()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.fhir_pas.sandbox", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--jwks-url", required=True, help="where the client publishes its keys")
    parser.add_argument("--client-id", default="casegate")
    parser.add_argument("--rules", type=Path, help="YAML/JSON rule list (default: approve)")
    parser.add_argument("--hang-seconds", type=float, default=DEFAULT_HANG_SECONDS)
    args = parser.parse_args(argv)
    sandbox = FhirPasSandbox(
        load_list(args.rules, TypeAdapter(list[Rule]), "rules") if args.rules else [],
        [SmartClient(client_id=args.client_id, jwks_url=args.jwks_url)],
        port=args.port,
        hang_seconds=args.hang_seconds,
    )
    sandbox.run_announced()


if __name__ == "__main__":
    main()
