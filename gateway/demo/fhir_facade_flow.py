"""The EHR flow: part of the backlog arrives as Da Vinci PAS bundles from an EHR through the
gateway's PAS facade (`POST /fhir/Claim/$submit`), reaches whichever payer its route names,
and comes back as a PAS ClaimResponse: final when the payer decided within the facade's wait,
pended otherwise. The EHR subscribed to casegate first (one rest-hook Subscription for its
organization), so each decision reaches its endpoint as a PAS notification too.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from canonical.cases import PriorAuthorizationRequest
from connectors.loopback import LoopbackServer
from gateway.demo.access import dev_token, read_body
from gateway.demo.backlog import backlog
from gateway.demo.flow import DemoContext, FlowResult
from gateway.fhir.capability import BACKPORT, PAS_TOPIC
from gateway.settings import FhirSettings, Settings
from mappings.fhir_pas.request_builder import build_request_bundle

EHR_ORGANIZATION_NPI = "1538214010"  # synthetic, with a valid check digit
EHR_CLAIM_SYSTEM = "urn:oid:2.16.840.1.113883.3.9999.42"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
SCOPES = "system/Claim.write system/ClaimResponse.read system/Subscription.write"
NOTIFICATION_WAIT_SECONDS = 30.0


class EhrEndpoint:
    """The EHR's notification endpoint: counts the PAS notifications it is sent."""

    def __init__(self) -> None:
        self.notified: set[str] = set()
        self._server = LoopbackServer(self._asgi())
        self.url = ""

    def _asgi(self) -> Any:
        endpoint = self

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            body = await read_body(receive)
            endpoint.notified.add(_focus_case(body))
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        return app

    def start(self) -> None:
        self.url = self._server.start() + "/ehr/pas-notifications"

    def stop(self) -> None:
        self._server.stop()


def _focus_case(body: bytes) -> str:
    """The case a notification is about: the PAS response bundle's identifier."""
    try:
        focus = json.loads(body)["entry"][1]["resource"]
        return str(focus["identifier"]["value"])
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def _subscription(endpoint: str) -> dict[str, Any]:
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "prior authorization updates for the demo EHR",
        "criteria": PAS_TOPIC,
        "_criteria": {
            "extension": [
                {
                    "url": f"{BACKPORT}/StructureDefinition/backport-filter-criteria",
                    "valueString": f"Bundle?orgIdentifier={EHR_ORGANIZATION_NPI}",
                }
            ]
        },
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": "application/fhir+json",
            "_payload": {
                "extension": [
                    {
                        "url": f"{BACKPORT}/StructureDefinition/backport-payload-content",
                        "valueCode": "full-resource",
                    }
                ]
            },
        },
    }


def _pas_bundle(number: int, case: dict[str, Any], created: datetime) -> dict[str, Any]:
    """The bundle the EHR sends: its own Claim identifier, its organization as the requester."""
    case["requesting_provider"] = {"npi": EHR_ORGANIZATION_NPI, "name": "Demo EHR Clinic"}
    request = PriorAuthorizationRequest.model_validate(case)
    bundle = build_request_bundle(f"ehr-demo-{number}", request, created=created)
    bundle["identifier"] = {"system": EHR_CLAIM_SYSTEM, "value": f"bundle-{number}"}
    bundle["entry"][0]["resource"]["identifier"] = [
        {"system": EHR_CLAIM_SYSTEM, "value": f"CLAIM-{number:06d}"}
    ]
    return bundle


class FhirFacadeFlow:
    name = "EHR PAS facade"
    weight = 2

    def __init__(self) -> None:
        self._endpoint = EhrEndpoint()
        self._accepted: list[str] = []
        self._answers: dict[str, int] = {"final": 0, "pended": 0}

    async def start(self, home: Path) -> None:
        self._endpoint.start()

    def configure(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"fhir": FhirSettings(facade_wait_seconds=2)})

    async def run(self, ctx: DemoContext) -> FlowResult:
        result = FlowResult()
        token = await dev_token(ctx.api, ctx.home, SCOPES)
        headers = {"Authorization": f"Bearer {token}", **FHIR_JSON}
        subscribed = await ctx.api.post(
            "/fhir/Subscription", json=_subscription(self._endpoint.url), headers=headers
        )
        subscribed.raise_for_status()
        created = datetime.now(UTC)
        queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
        for number, case in enumerate(backlog(ctx.count, seed=4242)):
            queue.put_nowait((number, case))

        async def ehr() -> None:
            while not queue.empty():
                number, case = queue.get_nowait()
                bundle = _pas_bundle(number, case, created)
                answer = await ctx.api.post("/fhir/Claim/$submit", json=bundle, headers=headers)
                if answer.status_code != 200:
                    result.refused += 1
                    continue
                response = answer.json()
                result.accepted[response["identifier"]["value"]] = time.monotonic()
                outcome = response["entry"][0]["resource"]["outcome"]
                self._answers["final" if outcome == "complete" else "pended"] += 1

        await asyncio.gather(*(ehr() for _ in range(max(1, ctx.concurrency // 2))))
        self._accepted = list(result.accepted)
        return result

    async def report(self, ctx: DemoContext) -> list[str]:
        """Waits (briefly) for the decided cases' notifications, then sums up."""
        deadline = time.monotonic() + NOTIFICATION_WAIT_SECONDS
        decided: set[str] = set()
        while True:
            statuses = {
                case_id: (await ctx.api.get(f"/v1/cases/{case_id}")).json()["status"]
                for case_id in self._accepted
            }
            decided = {
                case_id
                for case_id, status in statuses.items()
                if status in ("approved", "partially_approved", "denied")
            }
            if decided <= self._endpoint.notified or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        return [
            f"EHR PAS facade: {len(self._accepted)} bundles accepted, answered final within "
            f"the wait: {self._answers['final']}, answered pended: {self._answers['pended']}",
            f"EHR subscription: {len(decided & self._endpoint.notified)} of {len(decided)} "
            f"decided cases notified at {self._endpoint.url}",
        ]

    async def stop(self) -> None:
        self._endpoint.stop()
