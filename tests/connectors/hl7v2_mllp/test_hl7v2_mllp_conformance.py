"""hl7v2_mllp against the conformance kit, on the EHR sandbox's status receiver over mutual TLS
(the client certificate is the credential an MLLP interface checks)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from canonical.decisions import Decision, DecisionOutcome
from connectors.hl7v2_mllp import NOTIFY, server_tls_context
from connectors.hl7v2_mllp.sandbox import FAULT_ANSWERS, StatusReceiver
from connectors.testing import ConnectorConformance, Scenario
from tests.connectors.connector_test_support import EXAMPLE_CASE
from tests.connectors.hl7v2_mllp.support import CertFiles, make_cert


def _notice(decision: Decision) -> dict[str, Any]:
    return {"request": EXAMPLE_CASE, "decision": decision.model_dump(mode="json")}


APPROVED = Decision(outcome=DecisionOutcome.approved, auth_number="AUTH-1")
DENIED = Decision(outcome=DecisionOutcome.denied, reason_code="MN01", reason_text="Not necessary")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CertFiles]:
    folder = tmp_path_factory.mktemp("mllp-pki")
    ca = make_cert(folder, "ehr-ca")
    return {
        "ca": ca,
        "listener": make_cert(folder, "ehr-listener", issuer=ca),
        "client": make_cert(folder, "casegate", issuer=ca),
        "stranger": make_cert(folder, "stranger"),
    }


def _config(port: int, ca: CertFiles, client: CertFiles) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "server_hostname": "localhost",
        "tls": {
            "ca_file": str(ca.cert),
            "client_cert": str(client.cert),
            "client_key": str(client.key),
        },
        "ack_timeout_seconds": 0.5,
        "resends": 1,
    }


class TestHl7v2MllpConformance(ConnectorConformance):
    connector_name = "hl7v2_mllp"
    canary_fields = ("request.patient.family", "request.notes")
    faults = frozenset(FAULT_ANSWERS)
    scenarios = (
        Scenario("approved", _notice(APPROVED), DecisionOutcome.approved, operation=NOTIFY),
        Scenario(
            "denied", _notice(DENIED), DecisionOutcome.denied, operation=NOTIFY, reason_code="MN01"
        ),
    )

    @pytest.fixture
    async def sandbox(self, pki: dict[str, CertFiles]) -> AsyncIterator[StatusReceiver]:
        listener, ca = pki["listener"], pki["ca"]
        tls = server_tls_context(listener.cert, listener.key, client_ca_file=ca.cert)
        receiver = StatusReceiver(tls=tls)
        await receiver.start()
        yield receiver
        await receiver.aclose()

    @pytest.fixture
    def connector_config(
        self, sandbox: StatusReceiver, pki: dict[str, CertFiles]
    ) -> Mapping[str, Any]:
        return _config(sandbox.listener.port, pki["ca"], pki["client"])

    @pytest.fixture
    def bad_credentials_config(
        self, sandbox: StatusReceiver, pki: dict[str, CertFiles]
    ) -> Mapping[str, Any]:
        return _config(sandbox.listener.port, pki["ca"], pki["stranger"])
