"""fhir_pas beyond the kit: subscriptions and their notifications, Claim Updates, SMART keys
by JWKS URL, OperationOutcome errors by what to do next, and the sandbox's HTTP controls."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from canonical.decisions import DecisionOutcome
from connectors.contract import ConnectorRequest
from connectors.errors import AuthError, PermanentError, ProtocolError, TransientError
from connectors.fhir_pas.connector import FhirPasConnector, error_for_outcome
from connectors.fhir_pas.sandbox import FhirPasSandbox
from connectors.fhir_pas.sandbox_auth import SmartClient
from connectors.loopback import LoopbackServer
from connectors.payer_rest.sandbox_rules import Rule
from connectors.registry import ConnectorRegistry
from connectors.sandbox import Fault, HttpSandboxControl
from connectors.testing import with_values
from mappings.fhir_pas import read_response_bundle
from mappings.fhir_pas.subscriptions import read_notification, subscription_resource
from tests.connectors.connector_test_support import EXAMPLE_CASE, prior_auth_request
from tests.connectors.fhir_pas.support import Scope, Send, pas_config

PENDED = with_values(EXAMPLE_CASE, {"service_lines.0.procedure_code": "70553"})
RULES = [Rule(procedure_code="70553", decide="pend", decide_after_seconds=0.2)]


class Receiver:
    """A rest-hook endpoint on loopback that keeps what it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.url = ""
        received = self.received

        async def app(scope: Scope, receive: Any, send: Send) -> None:
            if scope["type"] != "http":
                return
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            received.append((headers, body))
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        self._server = LoopbackServer(app)

    def __enter__(self) -> Receiver:
        self.url = self._server.start() + "/notify"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


@pytest.fixture
def sandbox(smart_clients: list[SmartClient]) -> Iterator[FhirPasSandbox]:
    with FhirPasSandbox(RULES, smart_clients, hang_seconds=2) as running:
        yield running


@pytest.fixture
async def connector(
    sandbox: FhirPasSandbox, signing_keys: dict[str, tuple[Path, dict[str, Any]]]
) -> AsyncIterator[FhirPasConnector]:
    pem, public = signing_keys["ES384"]
    config = pas_config(sandbox.base_url, sandbox.token_url, pem, public["kid"])
    created = ConnectorRegistry().create("fhir_pas", config)
    assert isinstance(created, FhirPasConnector)
    try:
        yield created
    finally:
        await created.aclose()


async def _until(condition: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.02)


async def test_a_decided_pend_is_notified_with_the_full_response(
    connector: FhirPasConnector, sandbox: FhirPasSandbox
) -> None:
    with Receiver() as receiver:
        remote = await connector.subscribe(subscription_resource(receiver.url, {"X-S": "s3"}))
        assert [s.id for s in sandbox.subscriptions()] == [remote]
        pended = await connector.send(prior_auth_request(PENDED))
        assert pended.decision is not None
        assert pended.decision.outcome is DecisionOutcome.pended
        await _until(lambda: receiver.received)
    [(headers, body)] = receiver.received
    assert headers["x-s"] == "s3"
    assert headers["content-type"] == "application/fhir+json"
    notification = read_notification(body)
    assert notification.type == "event-notification"
    assert notification.event_number == "1"
    assert notification.response is not None
    decision = read_response_bundle(notification.response)
    assert decision.outcome is DecisionOutcome.approved
    assert decision.payer_reference == pended.payer_reference
    assert sandbox.report()["totals"]["inquiries"] == 0


async def test_dropped_notifications_leave_the_decision_to_an_inquiry(
    connector: FhirPasConnector, sandbox: FhirPasSandbox
) -> None:
    sandbox.drop_notifications()
    with Receiver() as receiver:
        await connector.subscribe(subscription_resource(receiver.url, {}))
        request = prior_auth_request(PENDED)
        await connector.send(request)
        await _until(lambda: sandbox.report()["totals"]["notifications_dropped"] == 1)
        assert receiver.received == []
    inquiry = prior_auth_request(PENDED, operation="prior_auth.inquire", case_id=request.case_id)
    answer = await connector.send(inquiry)
    assert answer.decision is not None
    assert answer.decision.outcome is DecisionOutcome.approved


async def test_a_subscription_off_the_pas_profile_is_refused(
    connector: FhirPasConnector,
) -> None:
    resource = subscription_resource("http://127.0.0.1:9/n", {}) | {"criteria": "Claim?x=y"}
    with pytest.raises(PermanentError) as caught:
        await connector.subscribe(resource)
    assert caught.value.reason == "HTTP 400: OperationOutcome invalid at Subscription.criteria"


async def test_a_submit_with_the_payer_reference_is_a_claim_update(
    connector: FhirPasConnector,
) -> None:
    first = await connector.send(prior_auth_request())
    assert first.payer_reference is not None
    update = await connector.send(prior_auth_request(payer_reference=first.payer_reference))
    claim = json.loads(update.wire_request)["entry"][0]["resource"]
    [related] = claim["related"]
    assert related["claim"]["identifier"]["value"] == first.payer_reference
    assert related["relationship"]["coding"][0]["code"] == "prior"
    assert "related" not in json.loads(first.wire_request)["entry"][0]["resource"]


async def test_a_cancellation_is_a_claim_update_that_stops_the_pend(
    connector: FhirPasConnector, sandbox: FhirPasSandbox
) -> None:
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    first = await connector.send(prior_auth_request(PENDED, case_id=case_id))
    assert first.decision is not None and first.decision.outcome is DecisionOutcome.pended
    reference = first.payer_reference
    answer = await connector.send(
        prior_auth_request(
            PENDED, case_id=case_id, operation="prior_auth.cancel", payer_reference=reference
        )
    )
    claim = json.loads(answer.wire_request)["entry"][0]["resource"]
    assert claim["status"] == "cancelled"
    assert claim["related"][0]["claim"]["identifier"]["value"] == reference
    assert answer.decision is not None and answer.decision.outcome is DecisionOutcome.cancelled
    await asyncio.sleep(0.3)  # past the rule's delay, which would have approved it
    inquiry = await connector.send(
        prior_auth_request(
            PENDED, case_id=case_id, operation="prior_auth.inquire", payer_reference=reference
        )
    )
    assert inquiry.decision is not None
    assert inquiry.decision.outcome is DecisionOutcome.cancelled
    assert sandbox.report()["totals"]["cancellations"] == 1


async def test_cancelling_a_request_the_payer_never_had_is_permanent(
    connector: FhirPasConnector,
) -> None:
    with pytest.raises(PermanentError) as caught:
        await connector.send(prior_auth_request(operation="prior_auth.cancel"))
    assert caught.value.reason == "HTTP 400: OperationOutcome not-found at " + (
        "Bundle.entry[0].resource.identifier"
    )


async def test_a_reused_key_with_another_request_is_permanent(
    connector: FhirPasConnector,
) -> None:
    request = prior_auth_request()
    await connector.send(request)
    changed = prior_auth_request(with_values(EXAMPLE_CASE, {"service_lines.0.units": 3}))
    reused = ConnectorRequest(**{**changed.__dict__, "idempotency_key": request.idempotency_key})
    with pytest.raises(PermanentError) as caught:
        await connector.send(reused)
    assert caught.value.reason == "HTTP 422: OperationOutcome conflict"


async def test_an_rs384_key_from_the_jwks_url_authenticates_too(
    sandbox: FhirPasSandbox, signing_keys: dict[str, tuple[Path, dict[str, Any]]]
) -> None:
    pem, public = signing_keys["RS384"]
    config = pas_config(sandbox.base_url, sandbox.token_url, pem, public["kid"], "RS384")
    connector = ConnectorRegistry().create("fhir_pas", config)
    try:
        await connector.check()
    finally:
        await connector.aclose()
    assert sandbox.token_requests() == 1


def test_a_shared_secret_is_not_smart_backend_services(sandbox: FhirPasSandbox) -> None:
    config = pas_config(sandbox.base_url, sandbox.token_url, Path("/k.pem"), "k")
    config["auth"] = {"token_url": sandbox.token_url, "client_id": "c", "client_secret": "env:X"}
    with pytest.raises(ValueError, match="auth"):
        ConnectorRegistry().create("fhir_pas", config)


def _outcome(code: str, expression: str = "Claim.item[0]", diagnostics: str = "") -> dict[str, Any]:
    issue = {"severity": "error", "code": code, "diagnostics": diagnostics}
    return {"resourceType": "OperationOutcome", "issue": [issue | {"expression": [expression]}]}


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("throttled", "HTTP 400", TransientError),
        ("transient", "HTTP 422", TransientError),
        ("security", "HTTP 400", AuthError),
        ("business-rule", "HTTP 422", PermanentError),
        ("required", "HTTP 400", PermanentError),
        ("invalid", "HTTP 200", ProtocolError),
    ],
)
def test_operation_outcomes_say_what_to_do_next(code: str, status: str, kind: type) -> None:
    error = error_for_outcome(_outcome(code), status, b"", b"")
    assert type(error) is kind
    assert error.reason == f"{status}: OperationOutcome {code} at Claim.item[0]"


def test_outcome_text_never_repeats_diagnostics_or_filtered_paths() -> None:
    canary = "Zqcanary-patient"
    outcome = _outcome("invalid", f"Patient.where(family='{canary}')", f"bad name {canary}")
    error = error_for_outcome(outcome, "HTTP 400", b"", b"")
    assert error.reason == "HTTP 400: OperationOutcome invalid"
    assert canary not in repr(error)


async def test_a_5xx_with_an_outcome_stays_transient(
    connector: FhirPasConnector, sandbox: FhirPasSandbox
) -> None:
    sandbox.inject(Fault.rate_limited, 1, retry_after=7)
    with pytest.raises(TransientError) as caught:
        await connector.send(prior_auth_request())
    assert caught.value.retry_after == 7


def test_the_sandbox_is_steered_over_http_as_well(sandbox: FhirPasSandbox) -> None:
    control = HttpSandboxControl(sandbox.base_url)
    control.inject(Fault.unavailable, 2)
    assert control.effects() == 0
    control.reset()
    assert sandbox.report()["totals"]["requests"] == 0


def test_the_sandbox_runs_as_its_own_process(jwks_url: str) -> None:
    command = [sys.executable, "-m", "connectors.fhir_pas.sandbox", "--jwks-url", jwks_url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = json.loads(process.stdout.readline())["base_url"]
        metadata = httpx.get(f"{base_url}/metadata", timeout=5).json()
        assert metadata["resourceType"] == "CapabilityStatement"
        assert HttpSandboxControl(base_url).effects() == 0
    finally:
        process.terminate()
        process.wait(timeout=10)
