"""The payer sandbox itself: rules, idempotency, auth, control over HTTP, and process mode."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from pydantic import ValidationError

from canonical.decisions import DecisionOutcome, ReviewAction
from connectors.contract import Connector, ConnectorRequest
from connectors.errors import PermanentError, TransientError
from connectors.payer_rest.sandbox import PayerRestSandbox
from connectors.payer_rest.sandbox_rules import Rule
from connectors.registry import ConnectorRegistry
from connectors.sandbox import Fault, HttpSandboxControl, SandboxControl
from connectors.testing import with_values
from tests.connectors.connector_test_support import (
    EXAMPLE_CASE,
    ROOT,
    RSA_CLIENT_ID,
    SECRET_ENV,
    payer_config,
    prior_auth_request,
)

StartSandbox = Callable[..., PayerRestSandbox]


def _connector(sandbox_url: str) -> Connector:
    return ConnectorRegistry().create("payer_rest", payer_config(sandbox_url))


async def test_pend_decided_after_seconds(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox([Rule(urgency="standard", decide="pend", decide_after_seconds=0.3)])
    connector = _connector(sandbox.base_url)
    submit = prior_auth_request()
    submitted = await connector.send(submit)
    assert submitted.decision is not None and submitted.decision.outcome is DecisionOutcome.pended

    def inquiry() -> ConnectorRequest:
        return prior_auth_request(
            operation="prior_auth.inquire",
            case_id=submit.case_id,
            payer_reference=submitted.payer_reference,
        )

    early = await connector.send(inquiry())
    assert early.decision is not None and early.decision.outcome is DecisionOutcome.pended
    await asyncio.sleep(0.35)
    late = await connector.send(inquiry())
    await connector.aclose()
    assert late.decision is not None and late.decision.outcome is DecisionOutcome.approved
    assert late.decision.auth_number and late.payer_reference == submitted.payer_reference


async def test_partial_cuts_only_the_named_procedure(start_sandbox: StartSandbox) -> None:
    rule = Rule(procedure_code="97110", decide="partial", approved_units=Decimal(6))
    sandbox = start_sandbox([rule])
    payload = with_values(
        EXAMPLE_CASE,
        {
            "service_lines": [
                EXAMPLE_CASE["service_lines"][0],
                EXAMPLE_CASE["service_lines"][0]
                | {"sequence": 2, "procedure_code": "97110", "units": 12},
            ]
        },
    )
    connector = _connector(sandbox.base_url)
    response = await connector.send(prior_auth_request(payload))
    await connector.aclose()
    decision = response.decision
    assert decision is not None and decision.outcome is DecisionOutcome.partially_approved
    assert [(i.sequence, i.action, i.authorized_units) for i in decision.items] == [
        (1, ReviewAction.certified, Decimal(1)),
        (2, ReviewAction.modified, Decimal(6)),
    ]


def test_rules_that_cannot_be_carried_out_are_refused() -> None:
    with pytest.raises(ValidationError, match="needs reason_code"):
        Rule(decide="deny")
    with pytest.raises(ValidationError, match="needs reason_code"):
        Rule(decide="pend", then="more_info")
    with pytest.raises(ValidationError, match="needs approved_units"):
        Rule(decide="partial")


async def test_same_key_with_another_body_is_refused(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox()
    connector = _connector(sandbox.base_url)
    first = prior_auth_request()
    await connector.send(first)
    changed = with_values(EXAMPLE_CASE, {"urgency": "expedited"})
    with pytest.raises(PermanentError, match="HTTP 422"):
        await connector.send(prior_auth_request(changed, idempotency_key=first.idempotency_key))
    await connector.send(first)
    await connector.aclose()
    assert sandbox.effects(first.idempotency_key) == 1
    assert sandbox.duplicates(first.idempotency_key) == 1
    report = sandbox.report()
    assert report["totals"]["effects"] == 1 and report["totals"]["duplicates"] == 1
    assert report["requests"] == {first.case_id: 1}


async def test_the_api_wants_a_bearer_token_and_a_key(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox()
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        no_token = await client.post("/v1/prior-auth-requests", content=b"{}")
        token = (
            await client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": ""},
                auth=("casegate-test", "sandbox-secret-7f3a9c"),
            )
        ).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        no_key = await client.post("/v1/prior-auth-requests", content=b"{}", headers=bearer)
        bad_body = await client.post(
            "/v1/prior-auth-requests", content=b"[]", headers=bearer | {"Idempotency-Key": "k"}
        )
        unknown = await client.get("/v1/prior-auth-requests/PR-NOPE", headers=bearer)
        wrong_grant = await client.post("/oauth/token", data={"grant_type": "password"})
    assert no_token.status_code == 401 and no_token.headers["www-authenticate"] == "Bearer"
    assert no_key.status_code == 400
    assert bad_body.status_code == 400
    assert unknown.status_code == 404
    assert wrong_grant.json() == {"error": "unsupported_grant_type"}


async def test_unknown_payer_reference_is_permanent(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox()
    connector = _connector(sandbox.base_url)
    with pytest.raises(PermanentError, match="HTTP 404"):
        await connector.send(
            prior_auth_request(operation="prior_auth.inquire", payer_reference="PR/../x")
        )
    await connector.aclose()


async def test_a_replayed_assertion_is_refused(
    start_sandbox: StartSandbox, signing_keys: dict[str, tuple[Path, dict[str, Any]]]
) -> None:
    sandbox = start_sandbox()
    pem, public = signing_keys["RS384"]
    token_url = f"{sandbox.base_url}/oauth/token"
    now = int(time.time())
    claims = {"iss": RSA_CLIENT_ID, "sub": RSA_CLIENT_ID, "aud": token_url, "jti": "j-1"}
    key = RSAKey.import_key(pem.read_bytes())

    def form(extra: dict[str, Any]) -> dict[str, str]:
        assertion = jwt.encode(
            {"alg": "RS384", "kid": public["kid"]}, claims | extra, key, algorithms=["RS384"]
        )
        return {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }

    async with httpx.AsyncClient() as client:
        first = await client.post(token_url, data=form({"exp": now + 60}))
        replay = await client.post(token_url, data=form({"exp": now + 60}))
        too_long = await client.post(token_url, data=form({"exp": now + 3600, "jti": "j-2"}))
        expired = await client.post(token_url, data=form({"exp": now - 1, "jti": "j-3"}))
        wrong_aud = await client.post(
            token_url, data=form({"exp": now + 60, "jti": "j-4", "aud": "https://elsewhere"})
        )
    assert first.status_code == 200
    for refused in (replay, too_long, expired, wrong_aud):
        assert refused.status_code == 401 and refused.json() == {"error": "invalid_client"}


async def test_http_control_drives_the_sandbox(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox()
    control = HttpSandboxControl(sandbox.base_url)
    assert isinstance(control, SandboxControl)
    connector = _connector(control.base_url)
    control.inject(Fault.unavailable, 2)
    for _ in range(2):
        with pytest.raises(TransientError):
            await connector.send(prior_auth_request())
    request = prior_auth_request()
    await connector.send(request)
    await connector.send(request)
    await connector.aclose()
    assert control.effects(request.idempotency_key) == 1
    assert control.effects("never-used") == 0
    assert control.effects() == 1
    control.reset()
    assert control.effects() == 0
    refused = httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"fault": "gremlins"})
    assert refused.status_code == 400 and "fault" in refused.text


@pytest.mark.usefixtures("client_secret_env")
@pytest.mark.parametrize("clients_file", [True, False], ids=["clients_file", "default_client"])
def test_runs_as_its_own_process(tmp_path: Path, clients_file: bool) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"member_id_prefix": "W", "decide": "deny", "reason_code": "X"}]))
    command = [sys.executable, "-m", "connectors.payer_rest.sandbox", "--port", "0"]
    command += ["--rules", str(rules)]
    client_id, env = "casegate", os.environ | {"PAYER_REST_SANDBOX_CLIENT_SECRET": "default-s"}
    if clients_file:
        clients = tmp_path / "clients.yaml"
        clients.write_text(f"- client_id: casegate-test\n  client_secret: env:{SECRET_ENV}\n")
        command += ["--clients", str(clients)]
        client_id, env = "casegate-test", os.environ | {SECRET_ENV: "file-s"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = json.loads(process.stdout.readline())["base_url"]
        assert base_url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=base_url) as client:
            token = client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, env.get(SECRET_ENV, "") if clients_file else "default-s"),
            ).json()["access_token"]
            body = {
                "requestId": "case-p1",
                "urgency": "STANDARD",
                "member": {"memberId": "W1"},
                "services": [
                    {
                        "sequence": 1,
                        "procedureCode": "27447",
                        "quantity": "1",
                        "fromDate": "2026-12-14",
                    }
                ],
            }
            answer = client.post(
                "/v1/prior-auth-requests",
                json=body,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "p-1"},
            ).json()
        assert answer["status"] == "DENIED" and answer["reason"] == {"code": "X"}
        assert HttpSandboxControl(base_url).effects("p-1") == 1
    finally:
        process.terminate()
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert process.wait(timeout=10) in (0, -signal.SIGTERM)


def test_process_mode_refuses_a_bad_clients_file(tmp_path: Path) -> None:
    clients = tmp_path / "clients.yaml"
    clients.write_text("- client_id: casegate-test\n  client_secret: hunter2-Zq\n")
    result = subprocess.run(
        [sys.executable, "-m", "connectors.payer_rest.sandbox", "--clients", str(clients)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "invalid at: 0.client_secret" in result.stderr
    assert "hunter2-Zq" not in result.stderr
