"""The PAS payer flow: part of the backlog goes to a payer with a Da Vinci PAS FHIR API (the
fhir_pas sandbox). The gateway signs its token requests with its own key, which the payer
fetches from the gateway's JWKS; imaging is pended and decided a moment later, and the decision
arrives by rest-hook notification on the gateway's one subscription at that payer.

The payer must reach the gateway (for its JWKS and for notifications) before the demo knows the
gateway's port, so it is given the address of a small loopback front door that forwards to the
gateway once it runs, as a reverse proxy would in front of a real deployment.
"""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from connectors.fhir_pas.sandbox import FhirPasSandbox
from connectors.fhir_pas.sandbox_auth import SmartClient
from connectors.loopback import LoopbackServer
from connectors.payer_rest.sandbox_rules import Rule
from gateway.demo.access import read_body
from gateway.demo.api_submit import submit_cases
from gateway.demo.backlog import backlog
from gateway.demo.flow import DemoContext, FlowResult
from gateway.fhir.payer_subscriptions import export_signing_key
from gateway.settings import ConnectorInstance, PayerFollowUpSettings, Route, Settings

CLIENT_ID = "casegate-demo"
CONNECTOR = "pas_payer"
PAYER_ID = "KEYSTONE"
PAYER_NAME = "Keystone Health (PAS)"
PEND_WAIT_SECONDS = 30.0
_HOP_BY_HOP = frozenset({"host", "connection", "content-length", "transfer-encoding"})


def demo_rules() -> list[Rule]:
    return [
        Rule(
            procedure_code="43644",
            decide="deny",
            reason_code="N",
            reason_text="Not medically necessary per plan criteria",
        ),
        Rule(procedure_code="70553", decide="pend", then="approve", decide_after_seconds=1.5),
        Rule(procedure_code="72148", decide="pend", then="approve", decide_after_seconds=1.5),
        Rule(procedure_code="J9035", decide="partial", approved_units=Decimal(2), reason_code="U"),
    ]


class FrontDoor:
    """Forwards every request to the gateway once `target` is set; 503 until then."""

    def __init__(self) -> None:
        self.target: str | None = None
        self._server = LoopbackServer(self._asgi())
        self.url = ""

    def _asgi(self) -> Any:
        door = self

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            body = await read_body(receive)
            status, headers, content = 503, [], b""
            if door.target is not None:
                forwarded = {
                    k.decode(): v.decode()
                    for k, v in scope["headers"]
                    if k.decode().lower() not in _HOP_BY_HOP
                }
                url = door.target + scope["path"]
                try:
                    async with httpx.AsyncClient(timeout=10) as client:
                        answer = await client.request(
                            scope["method"], url, content=body, headers=forwarded
                        )
                    status, content = answer.status_code, answer.content
                    kind = answer.headers.get("content-type")
                    headers = [(b"content-type", kind.encode())] if kind else []
                except httpx.HTTPError:
                    status = 502
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})

        return app

    def start(self) -> str:
        self.url = self._server.start()
        return self.url

    def stop(self) -> None:
        self._server.stop()


class FhirPasFlow:
    name = "payer PAS FHIR API"
    weight = 4

    def __init__(self) -> None:
        self._door = FrontDoor()
        self._sandbox: FhirPasSandbox | None = None
        self._key_file = Path()
        self._kid = ""
        self._accepted: list[str] = []

    async def start(self, home: Path) -> None:
        self._key_file, self._kid = export_signing_key(home)
        door = self._door.start()
        client = SmartClient(client_id=CLIENT_ID, jwks_url=f"{door}/.well-known/jwks.json")
        self._sandbox = FhirPasSandbox(demo_rules(), [client])
        self._sandbox.start()

    def configure(self, settings: Settings) -> Settings:
        assert self._sandbox is not None
        instance = ConnectorInstance(
            kind="fhir_pas",
            config={
                "base_url": self._sandbox.base_url,
                "auth": {
                    "token_url": self._sandbox.token_url,
                    "client_id": CLIENT_ID,
                    "auth_method": "private_key_jwt",
                    "private_key": f"file:{self._key_file}",
                    "key_id": self._kid,
                    "signing_alg": "ES384",
                },
            },
        )
        follow_up = PayerFollowUpSettings(
            callback_base_url=self._door.url,
            notification_overdue_seconds=10,
            reconcile_interval_seconds=2,
            subscribe_retry_seconds=0.5,
        )
        return settings.model_copy(
            update={
                "connectors": {**settings.connectors, CONNECTOR: instance},
                "routes": [*settings.routes, Route(payer=PAYER_ID, connector=CONNECTOR)],
                "payer_follow_up": follow_up,
            }
        )

    async def run(self, ctx: DemoContext) -> FlowResult:
        self._door.target = ctx.base_url
        cases = backlog(ctx.count, seed=57)
        rng = random.Random(57)  # noqa: S311 - synthetic data, reproducible on purpose
        for case in cases:
            case["payer"] = {"id": PAYER_ID, "name": PAYER_NAME}
            if rng.random() < 0.3:  # enough imaging to show pended cases resolved by notification
                case["service_lines"][0]["procedure_code"] = "72148"
                case["diagnoses"] = [{"code": "M54.50"}]
        result = await submit_cases(ctx.api, "/v1/prior-authorizations", cases, ctx.concurrency)
        self._accepted = list(result.accepted)
        return result

    async def report(self, ctx: DemoContext) -> list[str]:
        """Waits (briefly) for the pended PAS cases to hear from the payer, then sums up."""
        assert self._sandbox is not None
        deadline = time.monotonic() + PEND_WAIT_SECONDS
        while True:
            statuses = [
                (await ctx.api.get(f"/v1/cases/{case_id}")).json()["status"]
                for case_id in self._accepted
            ]
            if "pended" not in statuses or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        notified = 0
        for case_id in self._accepted:
            events = (await ctx.api.get(f"/v1/cases/{case_id}/events")).json()
            notified += any(e["data"].get("via") == "notification" for e in events)
        totals = self._sandbox.report()["totals"]
        return [
            f"PAS cases: {len(self._accepted)}, decided by payer notification after a pend: "
            f"{notified}, still pended: {statuses.count('pended')}",
            f"PAS sandbox: {self._sandbox.base_url} (subscriptions: "
            f"{len(self._sandbox.subscriptions())}, notifications sent: "
            f"{totals['notifications_sent']}, $inquire calls: {totals['inquiries']})",
        ]

    async def stop(self) -> None:
        if self._sandbox is not None:
            self._sandbox.stop()
        self._door.stop()
