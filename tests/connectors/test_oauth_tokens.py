"""Client-credentials tokens against the payer sandbox's real token endpoint.

Token requests are counted where they land, at the sandbox, so "one token for fifty sends"
is measured, not assumed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey
from pydantic import ValidationError

from connectors.contract import ConnectorRequest
from connectors.errors import AuthError, ProtocolError, TransientError
from connectors.oauth import ClientCredentialsTokens, OAuthClientConfig
from connectors.payer_rest.sandbox import PayerRestSandbox
from connectors.registry import ConnectorRegistry
from connectors.sandbox import Fault
from tests.connectors.connector_test_support import (
    CLIENT_ID,
    EC_CLIENT_ID,
    EXAMPLE_CASE,
    RSA_CLIENT_ID,
    SECRET_ENV,
    WRONG_SECRET_ENV,
    payer_config,
)

StartSandbox = Callable[..., PayerRestSandbox]
Keys = dict[str, tuple[Path, dict[str, Any]]]


def _config(sandbox: PayerRestSandbox, **changes: Any) -> OAuthClientConfig:
    fields = {
        "token_url": f"{sandbox.base_url}/oauth/token",
        "client_id": CLIENT_ID,
        "client_secret": f"env:{SECRET_ENV}",
    }
    return OAuthClientConfig.model_validate(fields | changes)


def _jwt_config(
    sandbox: PayerRestSandbox, keys: Keys, alg: str, **changes: Any
) -> OAuthClientConfig:
    pem, public = keys[alg]
    fields = {
        "client_id": RSA_CLIENT_ID if alg == "RS384" else EC_CLIENT_ID,
        "auth_method": "private_key_jwt",
        "client_secret": None,
        "private_key": f"file:{pem}",
        "key_id": public["kid"],
        "signing_alg": alg,
    }
    return _config(sandbox, **(fields | changes))


def _submit(n: int) -> ConnectorRequest:
    return ConnectorRequest(
        operation="prior_auth.submit",
        idempotency_key=f"token-test-{n}",
        case_id=f"case-token-{n}",
        case_type="prior_authorization",
        payload=EXAMPLE_CASE,
    )


async def test_fifty_concurrent_callers_share_one_token_request(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox()
    tokens = ClientCredentialsTokens(_config(sandbox), timeout_seconds=5)
    values = await asyncio.gather(*(tokens.token() for _ in range(50)))
    await tokens.aclose()
    assert len(set(values)) == 1
    assert sandbox.token_requests() == 1


async def test_fifty_concurrent_sends_fetch_one_token(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox()
    connector = ConnectorRegistry().create("payer_rest", payer_config(sandbox.base_url))
    responses = await asyncio.gather(*(connector.send(_submit(n)) for n in range(50)))
    await connector.aclose()
    assert all(r.decision is not None for r in responses)
    assert sandbox.token_requests() == 1
    assert sandbox.effects() == 50


async def test_token_is_refreshed_shortly_before_expiry(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(token_ttl_seconds=1)
    tokens = ClientCredentialsTokens(
        _config(sandbox, refresh_margin_seconds=0.5), timeout_seconds=5
    )
    first = await tokens.token()
    assert await tokens.token() == first
    await asyncio.sleep(0.6)
    second = await tokens.token()
    await tokens.aclose()
    assert second != first
    assert sandbox.token_requests() == 2


async def test_a_401_from_the_api_drops_the_cached_token(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox()
    connector = ConnectorRegistry().create("payer_rest", payer_config(sandbox.base_url))
    await connector.send(_submit(1))
    sandbox.inject(Fault.unauthorized, 1)
    with pytest.raises(AuthError):
        await connector.send(_submit(2))
    assert sandbox.token_requests() == 1
    await connector.send(_submit(2))
    await connector.aclose()
    assert sandbox.token_requests() == 2


async def test_invalidating_a_stale_token_keeps_the_current_one(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox()
    tokens = ClientCredentialsTokens(_config(sandbox), timeout_seconds=5)
    current = await tokens.token()
    tokens.invalidate("an-older-token")
    assert await tokens.token() == current
    tokens.invalidate(current)
    assert await tokens.token() != current
    await tokens.aclose()
    assert sandbox.token_requests() == 2


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_client_secret_methods(start_sandbox: StartSandbox, method: str) -> None:
    sandbox = start_sandbox()
    config = _config(sandbox, auth_method=method, scope="system/Claim.cru")
    tokens = ClientCredentialsTokens(config, timeout_seconds=5)
    assert await tokens.token()
    await tokens.aclose()


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
async def test_private_key_jwt_signs_a_fresh_assertion_each_time(
    start_sandbox: StartSandbox, signing_keys: Keys, alg: str
) -> None:
    # The sandbox refuses a reused jti, an exp over five minutes ahead and a wrong kid:
    # two accepted fetches show each assertion is new and within SMART's limits.
    sandbox = start_sandbox()
    tokens = ClientCredentialsTokens(_jwt_config(sandbox, signing_keys, alg), timeout_seconds=5)
    first = await tokens.token()
    tokens.invalidate(first)
    assert await tokens.token() != first
    await tokens.aclose()
    assert sandbox.token_requests() == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"key_id": "not-the-registered-kid"}, "invalid_client"),
        ({"signing_alg": "ES384"}, "ES384 signing key"),
    ],
)
async def test_private_key_jwt_refusals(
    start_sandbox: StartSandbox, signing_keys: Keys, changes: dict[str, Any], message: str
) -> None:
    sandbox = start_sandbox()
    config = _jwt_config(sandbox, signing_keys, "RS384", **changes)
    tokens = ClientCredentialsTokens(config, timeout_seconds=5)
    with pytest.raises(AuthError, match=message):
        await tokens.token()
    await tokens.aclose()


async def test_es384_needs_a_p384_key(
    start_sandbox: StartSandbox, signing_keys: Keys, tmp_path: Path
) -> None:
    pem = tmp_path / "p256.pem"
    pem.write_bytes(ECKey.generate_key("P-256").as_pem(private=True))
    sandbox = start_sandbox()
    config = _jwt_config(sandbox, signing_keys, "ES384", private_key=f"file:{pem}")
    tokens = ClientCredentialsTokens(config, timeout_seconds=5)
    with pytest.raises(AuthError, match="P-384"):
        await tokens.token()
    await tokens.aclose()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"client_secret": f"env:{WRONG_SECRET_ENV}"}, "invalid_client"),
        ({"client_id": "unknown-client"}, "invalid_client"),
        ({"client_secret": "env:CASEGATE_TEST_NEVER_SET"}, "env:CASEGATE_TEST_NEVER_SET"),
        ({"scope": "system/Claim.cru system/Patient.r"}, "invalid_scope"),
    ],
)
async def test_refused_credentials_are_auth_errors(
    start_sandbox: StartSandbox, changes: dict[str, Any], message: str
) -> None:
    sandbox = start_sandbox()
    tokens = ClientCredentialsTokens(_config(sandbox, **changes), timeout_seconds=5)
    with pytest.raises(AuthError, match=message) as caught:
        await tokens.token()
    await tokens.aclose()
    assert "sandbox-secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.unavailable, TransientError),
        (Fault.rate_limited, TransientError),
        (Fault.malformed, ProtocolError),
        (Fault.off_contract, ProtocolError),
        (Fault.timeout, TransientError),
    ],
)
async def test_token_endpoint_faults(
    start_sandbox: StartSandbox, fault: Fault, error: type[Exception]
) -> None:
    sandbox = start_sandbox()
    sandbox.inject(fault, 1, target="token")
    tokens = ClientCredentialsTokens(_config(sandbox), timeout_seconds=0.5)
    with pytest.raises(error):
        await tokens.token()
    assert await tokens.token()
    await tokens.aclose()


async def test_a_failed_fetch_fails_every_caller_waiting_on_it(
    start_sandbox: StartSandbox,
) -> None:
    # The fault hits one token request only: had each caller fetched its own, the others
    # would have succeeded.
    sandbox = start_sandbox()
    sandbox.inject(Fault.unavailable, 1, target="token")
    tokens = ClientCredentialsTokens(_config(sandbox), timeout_seconds=5)
    results = await asyncio.gather(*(tokens.token() for _ in range(10)), return_exceptions=True)
    await tokens.aclose()
    assert all(isinstance(r, TransientError) for r in results)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"auth_method": "private_key_jwt"}, "private_key_jwt needs private_key and key_id"),
        ({"client_secret": None}, "client_secret_basic needs client_secret"),
        ({"token_url": "http://auth.payer.example.com/token"}, "https"),
        ({"signing_alg": "RS256"}, "signing_alg"),
    ],
)
def test_config_validation(fields: dict[str, Any], message: str) -> None:
    base = {
        "token_url": "https://auth.payer.example.com/token",
        "client_id": "casegate",
        "client_secret": "env:X",
    }
    with pytest.raises(ValidationError, match=message):
        OAuthClientConfig.model_validate(base | fields)
