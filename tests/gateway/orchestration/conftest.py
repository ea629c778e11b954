"""The gateway with workers, routed to a real payer sandbox, for the policy-driven lifecycle:
`live` as the dispatch tests have it, and `rerouting` whose FHIR channel is a sandbox that has
gone down, with the payer route as the fallback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from canonical.cases import CaseType, PriorAuthorizationRequest
from connectors.payer_rest.sandbox import PayerRestSandbox
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.secrets import SecretRef
from gateway.app import create_app
from gateway.intake import Caller, accepted_case, canonical_format
from gateway.runtime import Runtime
from gateway.serving import start_server
from gateway.settings import ConnectorInstance, PolicySettings, Settings, WorkerSettings
from tests.gateway.api.support import EXAMPLES, dev_token
from tests.gateway.dispatch.conftest import LiveGateway, live, payer, routed_settings

__all__ = ["LiveGateway", "live", "payer"]


def example(**changes: Any) -> dict[str, Any]:
    """The example request; `place_of_service` moves its one line (21: an inpatient stay)."""
    body: dict[str, Any] = json.loads((EXAMPLES / "prior-authorization.json").read_text())
    line = body["service_lines"][0]
    for name in ("procedure_code", "place_of_service"):
        if name in changes:
            line[name] = changes.pop(name)
    body.update(changes)
    return body


async def post_case(api: httpx.AsyncClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(
        "/v1/prior-authorizations", json=body, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


@pytest.fixture
def down_payer() -> str:
    """The address of a payer sandbox that was started and has stopped: nothing listens."""
    client = SandboxClient(client_id="casegate", client_secret=SecretRef("env:UNUSED_IN_TESTS"))
    sandbox = PayerRestSandbox(clients=[client], hang_seconds=1)
    url = sandbox.start()
    sandbox.stop()
    return url


def rerouting_settings(base: Settings, down_url: str) -> Settings:
    acme = base.connectors["acme"]
    down = ConnectorInstance(
        kind="payer_rest",
        config={**acme.config, "base_url": down_url, "timeout_seconds": 0.5},
    )
    return base.model_copy(
        update={
            "connectors": {**base.connectors, "fhir_gateway": down},
            "policies": PolicySettings(channels={"fhir_pas": ["fhir_gateway"]}),
        }
    )


@pytest.fixture
async def rerouting(
    payer: PayerRestSandbox, down_payer: str, database_url: str, tmp_path: Path
) -> AsyncIterator[LiveGateway]:
    base = routed_settings(
        tmp_path, database_url, api_url=payer.base_url, token_url=f"{payer.base_url}/oauth/token"
    )
    settings = rerouting_settings(base, down_payer)
    app = create_app(Settings.model_validate(settings.model_dump()))
    server = await start_server(app)
    try:
        async with httpx.AsyncClient(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {dev_token(settings)}"},
            timeout=10,
        ) as api:
            yield LiveGateway(api=api, runtime=app.state["runtime"], payer=payer)
    finally:
        await server.stop()


CALLER = Caller(client_id="tests", tenant="default", token_jti=None, source_address=None)


async def accept_case(runtime: Runtime, body: dict[str, Any]) -> tuple[str, datetime]:
    """Open a case as the API would (decided by the runtime's packs); its id and receipt time."""
    payload = PriorAuthorizationRequest.model_validate(body)
    record = accepted_case(
        case_type=CaseType.prior_authorization,
        payload=payload,
        raw=b"{}",
        wire_format=canonical_format(CaseType.prior_authorization),
        caller=CALLER,
        idempotency_key=None,
        hasher=runtime.hasher,
        trace_context={},
        trace_id=None,
        policies=runtime.policies.book,
    )
    assert (await runtime.committer.submit(record)).kind == "accepted"
    assert record.case is not None
    return record.case.id, record.case.created_at


def runtime_settings(tmp_path: Path, database_url: str) -> Settings:
    """A runtime without workers, so only the test moves its cases and clocks."""
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        workers=WorkerSettings(in_process=False),
    )
