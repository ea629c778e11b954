"""The payer REST flow: prior authorizations from an internal app through /v1 to a payer's
JSON API (the payer_rest sandbox), which approves most, denies one service, pends imaging for
review and cuts a drug's units. Its route is the fallback for every payer no other flow claims."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from connectors.payer_rest.sandbox import PayerRestSandbox
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.payer_rest.sandbox_rules import Rule
from connectors.secrets import SecretRef
from gateway.demo.access import secret_file
from gateway.demo.api_submit import submit_cases
from gateway.demo.backlog import backlog
from gateway.demo.flow import DemoContext, FlowResult
from gateway.settings import ConnectorInstance, Route, Settings

CLIENT_ID = "casegate-demo"
CONNECTOR = "payer_sandbox"


def demo_rules() -> list[Rule]:
    return [
        Rule(
            procedure_code="43644",
            decide="deny",
            reason_code="N",
            reason_text="Not medically necessary per plan criteria",
        ),
        Rule(procedure_code="70553", decide="pend", then="approve", decide_after_inquiries=1),
        Rule(procedure_code="72148", decide="pend", then="approve", decide_after_inquiries=1),
        Rule(procedure_code="J9035", decide="partial", approved_units=Decimal(2)),
    ]


class PayerRestFlow:
    name = "payer REST API"
    weight = 10

    def __init__(self) -> None:
        self._sandbox: PayerRestSandbox | None = None
        self._url = ""
        self._secret_file = Path()

    async def start(self, home: Path) -> None:
        self._secret_file = secret_file(home, "payer-client-secret")
        client = SandboxClient(
            client_id=CLIENT_ID, client_secret=SecretRef(f"file:{self._secret_file}")
        )
        self._sandbox = PayerRestSandbox(rules=demo_rules(), clients=[client])
        self._url = self._sandbox.start()

    def configure(self, settings: Settings) -> Settings:
        instance = ConnectorInstance(
            kind="payer_rest",
            config={
                "base_url": self._url,
                "auth": {
                    "token_url": f"{self._url}/oauth/token",
                    "client_id": CLIENT_ID,
                    "client_secret": f"file:{self._secret_file}",
                },
            },
        )
        return settings.model_copy(
            update={
                "connectors": {**settings.connectors, CONNECTOR: instance},
                "routes": [*settings.routes, Route(payer="*", connector=CONNECTOR)],
            }
        )

    async def run(self, ctx: DemoContext) -> FlowResult:
        return await submit_cases(
            ctx.api, "/v1/prior-authorizations", backlog(ctx.count), ctx.concurrency
        )

    async def report(self, ctx: DemoContext) -> list[str]:
        return [f"payer REST sandbox: {self._url}"]

    async def stop(self) -> None:
        if self._sandbox is not None:
            self._sandbox.stop()
