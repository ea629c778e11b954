"""TokenVerifier: what it accepts, what it refuses, and how it treats a remote JWKS."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from gateway.auth import AuthSettings, TokenRejectedError, TokenVerifier, mint_token
from gateway.auth.jwks import RemoteKeySet
from gateway.auth.keys import IssuerKey, load_or_create_issuer_key

ISSUER = "https://idp.example"
AUDIENCE = "casegate"


class ManualClock:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "svc-1",
        "tenant": "tenant-a",
        "scope": "cases:read cases:write",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "jti-1",
    }
    claims.update(overrides)
    return claims


def _sign(key: ECKey | RSAKey, kid: str, claims: dict[str, Any], alg: str = "ES384") -> str:
    return jwt.encode({"alg": alg, "kid": kid}, claims, key, algorithms=[alg])


@pytest.fixture
def idp_key() -> ECKey:
    return ECKey.generate_key("P-384", auto_kid=True)


@pytest.fixture
def local_verifier(idp_key: ECKey) -> TokenVerifier:
    public = ECKey.import_key(idp_key.as_dict(private=False))
    return TokenVerifier(
        issuer=ISSUER, audience=AUDIENCE, clock_skew_seconds=60, local_keys=[public]
    )


async def test_valid_token_gives_the_principal(
    idp_key: ECKey, local_verifier: TokenVerifier
) -> None:
    claims = _claims()
    principal = await local_verifier.verify(_sign(idp_key, str(idp_key.kid), claims))
    assert principal.client_id == "svc-1"
    assert principal.tenant == "tenant-a"
    assert principal.scopes == frozenset({"cases:read", "cases:write"})
    assert principal.jti == "jti-1"
    assert principal.expires_at.timestamp() == claims["exp"]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 120}, "token has expired"),
        ({"nbf": int(time.time()) + 600}, "token is not valid yet"),
        ({"iss": "https://other-idp.example"}, "token claim iss is not acceptable"),
        ({"aud": "someone-else"}, "token claim aud is not acceptable"),
        ({"tenant": None, "sub": "not-configured"}, "token names no tenant"),
        ({"scope": ["cases:read"]}, "token scope is not a space-separated string"),
    ],
)
async def test_claim_checks(
    idp_key: ECKey, local_verifier: TokenVerifier, overrides: dict[str, Any], reason: str
) -> None:
    claims = {k: v for k, v in _claims(**overrides).items() if v is not None}
    with pytest.raises(TokenRejectedError) as caught:
        await local_verifier.verify(_sign(idp_key, str(idp_key.kid), claims))
    assert caught.value.reason == reason


async def test_clock_skew_is_tolerated(idp_key: ECKey, local_verifier: TokenVerifier) -> None:
    now = int(time.time())
    claims = _claims(exp=now - 30, nbf=now + 30, iat=now + 30)
    principal = await local_verifier.verify(_sign(idp_key, str(idp_key.kid), claims))
    assert principal.client_id == "svc-1"


async def test_alg_none_is_rejected(idp_key: ECKey, local_verifier: TokenVerifier) -> None:
    header = _b64(json.dumps({"alg": "none", "kid": idp_key.kid}).encode())
    token = f"{header}.{_b64(json.dumps(_claims()).encode())}."
    with pytest.raises(TokenRejectedError, match="algorithm is not allowed"):
        await local_verifier.verify(token)


async def test_hs256_signed_with_the_public_key_is_rejected(
    idp_key: ECKey, local_verifier: TokenVerifier
) -> None:
    public_pem = idp_key.as_pem(private=False)
    header = _b64(json.dumps({"alg": "HS256", "kid": idp_key.kid}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(TokenRejectedError, match="algorithm is not allowed"):
        await local_verifier.verify(f"{header}.{payload}.{_b64(signature)}")


async def test_unknown_kid_missing_kid_and_forgeries_are_rejected(
    idp_key: ECKey, local_verifier: TokenVerifier
) -> None:
    stranger = ECKey.generate_key("P-384", auto_kid=True)
    cases = {
        _sign(stranger, str(stranger.kid), _claims()): "token is signed with an unknown key",
        # a different key claiming the trusted key's kid
        _sign(stranger, str(idp_key.kid), _claims()): "token signature is invalid",
        jwt.encode({"alg": "ES384"}, _claims(), idp_key, algorithms=["ES384"]): (
            "token header has no kid"
        ),
        "garbage": "token is not a compact JWS",
        "a" * 9000: "token is too large",
    }
    genuine = _sign(idp_key, str(idp_key.kid), _claims())
    head, _payload, signature = genuine.split(".")
    tampered_claims = _b64(json.dumps(_claims(scope="admin")).encode())
    cases[f"{head}.{tampered_claims}.{signature}"] = "token signature is invalid"
    for token, reason in cases.items():
        with pytest.raises(TokenRejectedError) as caught:
            await local_verifier.verify(token)
        assert caught.value.reason == reason


async def test_rs256_and_rs384_keys_of_the_right_type_only(idp_key: ECKey) -> None:
    rsa = RSAKey.generate_key(2048, auto_kid=True)
    verifier = TokenVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        clock_skew_seconds=0,
        local_keys=[RSAKey.import_key(rsa.as_dict(private=False))],
    )
    for alg in ("RS256", "RS384"):
        token = _sign(rsa, str(rsa.kid), _claims(jti=alg), alg=alg)
        assert (await verifier.verify(token)).jti == alg
    with pytest.raises(TokenRejectedError, match="algorithm is not allowed"):
        await verifier.verify(_sign(rsa, str(rsa.kid), _claims(), alg="RS512"))


async def test_tenant_comes_from_the_configured_client_when_the_idp_omits_it(
    idp_key: ECKey,
) -> None:
    verifier = TokenVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        clock_skew_seconds=0,
        local_keys=[ECKey.import_key(idp_key.as_dict(private=False))],
        client_tenants={"svc-1": "tenant-z"},
    )
    claims = _claims()
    del claims["tenant"], claims["jti"]
    principal = await verifier.verify(_sign(idp_key, str(idp_key.kid), claims))
    assert principal.tenant == "tenant-z"
    assert principal.jti.startswith("sha256:")


async def test_verified_tokens_are_cached_until_they_expire(idp_key: ECKey) -> None:
    clock = ManualClock(start=time.time())
    verifier = TokenVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        clock_skew_seconds=10,
        local_keys=[ECKey.import_key(idp_key.as_dict(private=False))],
        clock=clock,
    )
    token = _sign(idp_key, str(idp_key.kid), _claims(exp=int(clock.now) + 60))
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first  # served from the cache, not re-verified
    clock.now += 65  # past exp, inside the skew
    assert await verifier.verify(token) is first
    clock.now += 10  # past exp + skew
    with pytest.raises(TokenRejectedError, match="expired"):
        await verifier.verify(token)


async def test_cache_is_bounded(idp_key: ECKey) -> None:
    verifier = TokenVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        clock_skew_seconds=0,
        local_keys=[ECKey.import_key(idp_key.as_dict(private=False))],
        cache_size=2,
    )
    tokens = [_sign(idp_key, str(idp_key.kid), _claims(jti=f"j{i}")) for i in range(3)]
    first = await verifier.verify(tokens[0])
    await verifier.verify(tokens[1])
    await verifier.verify(tokens[2])  # evicts tokens[0], the least recently used
    again = await verifier.verify(tokens[0])
    assert again == first and again is not first


async def test_embedded_issuer_tokens_verify_from_settings(tmp_path: Path) -> None:
    settings = AuthSettings(
        clients=[{"client_id": "svc", "tenant": "t", "scopes": ["a", "b"], "secret": "env:X"}]
    )
    issuer_key: IssuerKey = load_or_create_issuer_key(tmp_path)
    verifier = TokenVerifier.from_settings(settings, issuer_key)
    token = mint_token(issuer_key, settings, settings.clients[0], ["a"])
    principal = await verifier.verify(token)
    assert (principal.client_id, principal.tenant, principal.scopes) == (
        "svc",
        "t",
        frozenset({"a"}),
    )
    past = mint_token(issuer_key, settings, settings.clients[0], ["a"], now=time.time() - 3600)
    with pytest.raises(TokenRejectedError, match="expired"):
        await verifier.verify(past)
    with pytest.raises(ValueError, match="not registered for scopes"):
        mint_token(issuer_key, settings, settings.clients[0], ["admin"])


def _public_jwk(key: ECKey | RSAKey) -> dict[str, Any]:
    return {**key.as_dict(private=False), "kid": key.kid}


async def test_remote_jwks_is_refetched_at_most_once_per_30_seconds(jwks_server: Any) -> None:
    clock = ManualClock()
    first_key = ECKey.generate_key("P-384", auto_kid=True)
    jwks_server.document = {"keys": [_public_jwk(first_key)]}
    verifier = TokenVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        clock_skew_seconds=0,
        remote_keys=RemoteKeySet(jwks_server.url, clock=clock),
    )
    assert (await verifier.verify(_sign(first_key, str(first_key.kid), _claims()))).jti
    assert jwks_server.hits == 1

    bogus = ECKey.generate_key("P-384", auto_kid=True)
    for i in range(5):
        token = _sign(bogus, f"made-up-{i}", _claims(jti=f"b{i}"))
        with pytest.raises(TokenRejectedError, match="unknown key"):
            await verifier.verify(token)
    assert jwks_server.hits == 1  # inside the window of the first fetch

    clock.now += 31
    tokens = [_sign(bogus, f"flood-{i}", _claims(jti=f"f{i}")) for i in range(10)]
    results = await asyncio.gather(
        *(verifier.verify(token) for token in tokens), return_exceptions=True
    )
    assert all(isinstance(result, TokenRejectedError) for result in results)
    assert jwks_server.hits == 2  # one refetch for the whole flood

    rotated = ECKey.generate_key("P-384", auto_kid=True)
    jwks_server.document = {"keys": [_public_jwk(first_key), _public_jwk(rotated)]}
    rotated_token = _sign(rotated, str(rotated.kid), _claims(jti="rotated"))
    clock.now += 10
    with pytest.raises(TokenRejectedError, match="unknown key"):
        await verifier.verify(rotated_token)
    assert jwks_server.hits == 2
    clock.now += 21
    assert (await verifier.verify(rotated_token)).jti == "rotated"
    assert jwks_server.hits == 3


async def test_remote_jwks_outage_keeps_known_keys(jwks_server: Any) -> None:
    clock = ManualClock()
    key = ECKey.generate_key("P-384", auto_kid=True)
    jwks_server.document = {"keys": [_public_jwk(key)]}
    remote = RemoteKeySet(jwks_server.url, clock=clock, max_age=60)
    verifier = TokenVerifier(
        issuer=ISSUER, audience=AUDIENCE, clock_skew_seconds=0, remote_keys=remote
    )
    await verifier.verify(_sign(key, str(key.kid), _claims(jti="before")))
    jwks_server.document = {"not": "a jwks"}
    clock.now += 120  # the cached set is stale, the refetch finds garbage
    assert (await verifier.verify(_sign(key, str(key.kid), _claims(jti="after")))).jti == "after"
    assert jwks_server.hits == 2
