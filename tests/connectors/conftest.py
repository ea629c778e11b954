"""Shared fixtures: client credentials (secrets by reference, signing keys) and sandboxes."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey, RSAKey

from connectors.payer_rest.sandbox import PayerRestSandbox
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.payer_rest.sandbox_rules import Rule
from tests.connectors.connector_test_support import (
    CLIENT_ID,
    EC_CLIENT_ID,
    RSA_CLIENT_ID,
    SECRET_ENV,
    SECRET_VALUE,
    WRONG_SECRET_ENV,
)


@pytest.fixture(scope="session")
def client_secret_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, SECRET_VALUE)
        patch.setenv(WRONG_SECRET_ENV, "not-the-secret")
        yield


@pytest.fixture(scope="session")
def signing_keys(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Per algorithm: the private key's PEM file and the public JWK the sandbox trusts."""
    folder = tmp_path_factory.mktemp("keys")
    keys: dict[str, tuple[Path, dict[str, Any]]] = {}
    for alg, key in (
        ("RS384", RSAKey.generate_key(2048)),
        ("ES384", ECKey.generate_key("P-384")),
    ):
        pem = folder / f"{alg}.pem"
        pem.write_bytes(key.as_pem(private=True))
        public = key.as_dict(private=False) | {"kid": f"test-{alg.lower()}"}
        keys[alg] = (pem, public)
    return keys


@pytest.fixture(scope="session")
def sandbox_clients(
    client_secret_env: None, signing_keys: dict[str, tuple[Path, dict[str, Any]]]
) -> list[SandboxClient]:
    return [
        SandboxClient(
            client_id=CLIENT_ID,
            client_secret=f"env:{SECRET_ENV}",
            scopes=frozenset({"system/Claim.cru", "system/ClaimResponse.r"}),
        ),
        SandboxClient(client_id=RSA_CLIENT_ID, public_jwk=signing_keys["RS384"][1]),
        SandboxClient(client_id=EC_CLIENT_ID, public_jwk=signing_keys["ES384"][1]),
    ]


@pytest.fixture
def start_sandbox(
    sandbox_clients: list[SandboxClient],
) -> Iterator[Callable[..., PayerRestSandbox]]:
    """Start payer sandboxes for one test; all are stopped after it."""
    started: list[PayerRestSandbox] = []

    def start(rules: Sequence[Rule] = (), **options: Any) -> PayerRestSandbox:
        options.setdefault("hang_seconds", 3.0)
        sandbox = PayerRestSandbox(rules, sandbox_clients, **options)
        sandbox.start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
