"""The clearinghouse connector's refusals, credentials and transports beyond the kit's checks."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from canonical.decisions import DecisionOutcome
from connectors.contract import ConnectorRequest, ConnectorResponse
from connectors.errors import PermanentError
from connectors.loopback import ServerTls
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.registry import ConnectorRegistry
from connectors.secrets import SecretRef
from connectors.testing import error_text, with_values
from connectors.x12_clearinghouse.config import X12ClearinghouseConfig
from connectors.x12_clearinghouse.connector import X12ClearinghouseConnector
from connectors.x12_clearinghouse.exchange import build_outgoing, read_answer
from connectors.x12_clearinghouse.realtime import RealTimeTransport
from connectors.x12_clearinghouse.sandbox import X12ClearinghouseSandbox
from tests.connectors.connector_test_support import (
    CLIENT_ID,
    EXAMPLE_CASE,
    SECRET_ENV,
    prior_auth_request,
)
from tests.connectors.hl7v2_mllp.support import make_cert
from tests.connectors.x12_clearinghouse.support import (
    ELIGIBILITY_CHECK,
    directory_config,
    parties,
    realtime_config,
    sftp_config,
    start_clearinghouse,
)

CANARY = "Zqcanary" + uuid.uuid4().hex[:8]


@pytest.fixture
def sandbox(client_secret_env: None, tmp_path: Path) -> Iterator[X12ClearinghouseSandbox]:
    running = start_clearinghouse(tmp_path / "ch", sftp=False)
    yield running
    running.stop()


def _connector(config: dict[str, Any]) -> X12ClearinghouseConnector:
    connector = ConnectorRegistry().create("x12_clearinghouse", config)
    assert isinstance(connector, X12ClearinghouseConnector)
    return connector


async def _send_once(sandbox: X12ClearinghouseSandbox, config: dict[str, Any]) -> ConnectorResponse:
    """Check and send one request through a fresh connector, then stop `sandbox`."""
    try:
        connector = _connector(config)
        await connector.check()
        response = await connector.send(prior_auth_request())
        await connector.aclose()
    finally:
        sandbox.stop()
    return response


class _Fixed:
    async def number_for(self, partner: str, key: str) -> int:
        return 4242


async def test_an_unknown_sender_earns_a_ta1_and_a_permanent_error(
    client_secret_env: None, tmp_path: Path
) -> None:
    sandbox = start_clearinghouse(tmp_path, sftp=False, known_senders=frozenset({"SOMEONE"}))
    try:
        connector = _connector(realtime_config(sandbox))
        with pytest.raises(PermanentError) as caught:
            await connector.send(prior_auth_request())
        await connector.aclose()
    finally:
        sandbox.stop()
    assert "TA1 note 006" in caught.value.reason
    assert caught.value.wire_response.count(b"TA1*") == 1
    assert sandbox.effects() == 0


async def test_a_reused_control_number_earns_a_duplicate_ta1(
    sandbox: X12ClearinghouseSandbox,
) -> None:
    connector = _connector(realtime_config(sandbox))
    connector.use_control_numbers(_Fixed())
    first = await connector.send(prior_auth_request())
    with pytest.raises(PermanentError) as caught:
        await connector.send(prior_auth_request())
    await connector.aclose()
    assert first.decision is not None
    assert "TA1 note 025" in caught.value.reason
    assert sandbox.effects() == 1


async def test_a_999_rejection_is_located_and_free_of_phi(
    sandbox: X12ClearinghouseSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    request = prior_auth_request(with_values(EXAMPLE_CASE, {"patient.family": CANARY}))
    config = X12ClearinghouseConfig.model_validate(realtime_config(sandbox))
    outgoing = build_outgoing(request, config, 77)
    assert CANARY.encode() in outgoing.data
    broken = outgoing.data.replace(b"~UM*HS*", b"~UM*ZZ*", 1)
    assert broken != outgoing.data
    assert config.realtime is not None
    transport = RealTimeTransport(
        config.realtime, sender=config.sender, receiver=config.receiver, timeout_seconds=5
    )
    try:
        answer = await transport.send(request, "278", broken)
    finally:
        await transport.aclose()
    with pytest.raises(PermanentError) as caught:
        read_answer(answer.payload, outgoing)
    reason = caught.value.reason
    assert reason.startswith("999 rejected transaction set 278 0001")
    assert "(UM)" in reason and "element 01 IK4 7: invalid code value" in reason
    assert CANARY not in error_text(caught.value)
    assert CANARY not in caplog.text
    assert sandbox.effects() == 0


async def test_oauth2_client_credentials_carry_the_request(
    client_secret_env: None, tmp_path: Path
) -> None:
    client = SandboxClient(client_id=CLIENT_ID, client_secret=SecretRef(f"env:{SECRET_ENV}"))
    sandbox = start_clearinghouse(tmp_path, sftp=False, oauth_clients=[client])
    config = parties() | {
        "realtime": {
            "url": sandbox.base_url,
            "auth": {
                "method": "oauth2",
                "oauth": {
                    "token_url": sandbox.token_url,
                    "client_id": CLIENT_ID,
                    "client_secret": f"env:{SECRET_ENV}",
                },
            },
        }
    }
    response = await _send_once(sandbox, config)
    assert response.decision is not None
    assert response.decision.outcome is DecisionOutcome.approved


async def test_mutual_tls_certificate_is_the_credential(
    client_secret_env: None, tmp_path: Path
) -> None:
    ca = make_cert(tmp_path, "ca")
    server = make_cert(tmp_path, "server", ca)
    client = make_cert(tmp_path, "client", ca)
    tls = ServerTls(server.cert, server.key, client_ca_file=ca.cert)
    sandbox = start_clearinghouse(tmp_path / "ch", sftp=False, tls=tls)
    url = sandbox.base_url.replace("127.0.0.1", "localhost")
    config = parties() | {
        "realtime": {
            "url": url,
            "auth": {"method": "mutual_tls"},
            "tls": {
                "ca_file": str(ca.cert),
                "client_cert": str(client.cert),
                "client_key": str(client.key),
            },
        }
    }
    response = await _send_once(sandbox, config)
    assert response.decision is not None
    assert response.wire_request.startswith(b"ISA*")


def test_mutual_tls_without_a_certificate_is_refused_at_configuration() -> None:
    config = parties() | {
        "realtime": {"url": "https://ch.example/core", "auth": {"method": "mutual_tls"}}
    }
    with pytest.raises(ValueError, match="mutual_tls needs"):
        X12ClearinghouseConfig.model_validate(config)


async def test_directory_transport_round_trips_and_resends_once(
    client_secret_env: None, tmp_path: Path
) -> None:
    sandbox = start_clearinghouse(tmp_path, sftp=False)
    request = prior_auth_request()
    try:
        connector = _connector(directory_config(tmp_path))
        await connector.check()
        first = await connector.send(request)
        again = await connector.send(request)
        await connector.aclose()
    finally:
        sandbox.stop()
    assert first.decision is not None and first.decision == again.decision
    assert sandbox.effects(request.idempotency_key) == 1
    assert not list((tmp_path / "responses").iterdir())


async def test_reports_wait_in_the_report_folder_until_removed(
    client_secret_env: None, tmp_path: Path
) -> None:
    sandbox = start_clearinghouse(tmp_path, sftp=False)
    sandbox.leave_report("era-1.835", b"ISA*...")
    try:
        connector = _connector(directory_config(tmp_path))
        batch = connector.batch
        assert batch is not None
        assert await batch.reports() == ["era-1.835"]
        assert await batch.read_report("era-1.835") == b"ISA*..."
        await batch.remove_report("era-1.835")
        assert await batch.reports() == []
        await connector.aclose()
    finally:
        sandbox.stop()


async def test_a_report_name_cannot_leave_its_folder(tmp_path: Path) -> None:
    connector = _connector(directory_config(tmp_path))
    batch = connector.batch
    assert batch is not None
    with pytest.raises(PermanentError):
        await batch.read_report("../secrets")
    await connector.aclose()


async def test_an_eligibility_answer_carries_its_benefits(sandbox: X12ClearinghouseSandbox) -> None:
    request = ConnectorRequest(
        operation="eligibility.check",
        idempotency_key=f"test-{uuid.uuid4().hex}",
        case_id="case-elig-1",
        case_type="eligibility_check",
        payload=with_values(ELIGIBILITY_CHECK, {"service_type_codes": ["30", "2"]}),
    )
    connector = _connector(realtime_config(sandbox))
    response = await connector.send(request)
    await connector.aclose()
    assert response.decision is not None
    assert response.decision.outcome is DecisionOutcome.approved
    assert response.data is not None
    assert response.data["coverage_active"] is True
    assert response.data["authorization_required_for"] == ["2"]
    assert b"ST*270*" in response.wire_request and b"ST*271*" in response.wire_response


async def test_reports_are_picked_up_over_sftp(client_secret_env: None, tmp_path: Path) -> None:
    sandbox = start_clearinghouse(tmp_path)
    sandbox.leave_report("status-1.277", b"ISA*277...")
    try:
        connector = _connector(sftp_config(sandbox))
        batch = connector.batch
        assert batch is not None
        await connector.check()
        assert await batch.reports() == ["status-1.277"]
        assert await batch.read_report("status-1.277") == b"ISA*277..."
        await batch.remove_report("status-1.277")
        assert not (tmp_path / "outbound" / "status-1.277").exists()
        await connector.aclose()
    finally:
        sandbox.stop()


async def test_a_file_for_another_receiver_earns_a_ta1(
    client_secret_env: None, tmp_path: Path
) -> None:
    sandbox = start_clearinghouse(tmp_path, sftp=False)
    config = directory_config(tmp_path) | {"receiver": {"id": "SOMEONEELSE"}}
    try:
        connector = _connector(config)
        with pytest.raises(PermanentError) as caught:
            await connector.send(prior_auth_request())
        await connector.aclose()
    finally:
        sandbox.stop()
    assert "TA1 note 009" in caught.value.reason
    assert sandbox.effects() == 0
