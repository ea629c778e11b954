"""payer_rest behaviour beyond the conformance kit: what errors carry, and mutual TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors.errors import ConnectorError, PermanentError, ProtocolError
from connectors.loopback import ServerTls
from connectors.payer_rest.sandbox import PayerRestSandbox
from connectors.registry import ConnectorRegistry
from connectors.sandbox import Fault
from connectors.testing import error_text, with_values
from tests.connectors.connector_test_support import EXAMPLE_CASE, payer_config, prior_auth_request

StartSandbox = Callable[..., PayerRestSandbox]


async def test_off_contract_answer_keeps_the_wire_bytes_out_of_the_text(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox()
    connector = ConnectorRegistry().create("payer_rest", payer_config(sandbox.base_url))
    sandbox.inject(Fault.off_contract, 1)
    with pytest.raises(ProtocolError) as caught:
        await connector.send(prior_auth_request())
    await connector.aclose()
    error = caught.value
    assert (
        error.reason == "payer response is off contract at /status: is not a known decision status"
    )
    assert b"MAYBE" in error.wire_response and b"Testpatient" in error.wire_response
    assert b"Testpatient" in error.wire_request
    assert "Testpatient" not in error_text(error)


async def test_the_decision_must_answer_this_case(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox()
    connector = ConnectorRegistry().create("payer_rest", payer_config(sandbox.base_url))
    submitted = await connector.send(prior_auth_request())
    with pytest.raises(ProtocolError, match="/requestId"):
        await connector.send(
            prior_auth_request(
                operation="prior_auth.inquire", payer_reference=submitted.payer_reference
            )
        )
    await connector.aclose()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"operation": "prior_auth.inquire"}, "needs the payer_reference"),
        ({"operation": "eligibility.check"}, "does not support the operation (eligibility.check)"),
        ({"operation": "make.coffee"}, "does not support the operation (unknown)"),
        ({"case_type": "claim_status"}, "prior_authorization cases only"),
        (
            {"payload": with_values(EXAMPLE_CASE, {"patient.birth_date": "Zq-not-a-date"})},
            "at: patient.birth_date",
        ),
    ],
)
async def test_requests_it_cannot_carry_are_permanent_before_any_io(
    unused_port: int, changes: dict[str, Any], message: str
) -> None:
    # Nothing listens at the configured URL: these must fail before trying to connect.
    connector = ConnectorRegistry().create(
        "payer_rest", payer_config(f"http://127.0.0.1:{unused_port}")
    )
    with pytest.raises(PermanentError) as caught:
        await connector.send(prior_auth_request(**changes))
    await connector.aclose()
    assert message in caught.value.reason
    assert "Zq-not-a-date" not in error_text(caught.value)


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, Any] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer if issuer else (name, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throwaway CA with a server certificate for 127.0.0.1 and a client certificate."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("casegate test CA", ca_key, None, ca=True)
    files: dict[str, Path] = {}
    for role in ("server", "client"):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(f"{role}", key, (ca.subject, ca_key), server=role == "server")
        files[f"{role}_cert"] = folder / f"{role}.pem"
        files[f"{role}_cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files[f"{role}_key"] = folder / f"{role}.key"
        files[f"{role}_key"].write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    files["ca"] = folder / "ca.pem"
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return files


async def test_mutual_tls_to_token_endpoint_and_api(
    start_sandbox: StartSandbox, pki: dict[str, Path]
) -> None:
    tls = ServerTls(pki["server_cert"], pki["server_key"], client_ca_file=pki["ca"])
    sandbox = start_sandbox(tls=tls)
    assert sandbox.base_url.startswith("https://127.0.0.1:")
    config = payer_config(sandbox.base_url) | {
        "tls": {
            "ca_file": str(pki["ca"]),
            "client_cert": str(pki["client_cert"]),
            "client_key": str(pki["client_key"]),
        }
    }
    connector = ConnectorRegistry().create("payer_rest", config)
    await connector.check()
    response = await connector.send(prior_auth_request())
    await connector.aclose()
    assert response.decision is not None

    without_client_cert = payer_config(sandbox.base_url) | {"tls": {"ca_file": str(pki["ca"])}}
    refused = ConnectorRegistry().create("payer_rest", without_client_cert)
    with pytest.raises(ConnectorError):
        await refused.check()
    await refused.aclose()
    assert sandbox.token_requests() == 1
