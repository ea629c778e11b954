"""POST /oauth/token: client secret (basic, post) and private_key_jwt, and every refusal."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from joserfc import jwt
from litestar import Litestar
from litestar.testing import AsyncTestClient

from gateway.auth import AuthSettings, TokenVerifier
from gateway.auth.client_auth import JtiReplayCache
from gateway.auth.keys import load_or_create_issuer_key

TOKEN_URL = "http://127.0.0.1:8080/oauth/token"
Form = Callable[..., dict[str, str]]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _verify(settings: AuthSettings, tmp_path: Any, token: str) -> Any:
    verifier = TokenVerifier.from_settings(settings, load_or_create_issuer_key(tmp_path))
    return await verifier.verify(token)


async def test_secret_basic_issues_a_verifiable_token(
    api: AsyncTestClient[Litestar], client_secret: str, settings: AuthSettings, tmp_path: Any
) -> None:
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "cases:read"},
        auth=("svc-secret", client_secret),
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "cases:read"
    principal = await _verify(settings, tmp_path, body["access_token"])
    assert principal.client_id == "svc-secret"
    assert principal.tenant == "tenant-a"
    assert principal.scopes == {"cases:read"}


async def test_access_token_carries_the_documented_claims(
    api: AsyncTestClient[Litestar], client_secret: str, tmp_path: Any
) -> None:
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("svc-secret", client_secret),
    )
    token = response.json()["access_token"]
    issuer_key = load_or_create_issuer_key(tmp_path)
    decoded = jwt.decode(token, issuer_key.verification_key(), algorithms=["ES384"])
    assert decoded.header["alg"] == "ES384"
    assert decoded.header["kid"] == issuer_key.kid
    claims = decoded.claims
    assert claims["iss"] == "http://127.0.0.1:8080"
    assert claims["aud"] == "casegate"
    assert claims["sub"] == "svc-secret"
    assert claims["tenant"] == "tenant-a"
    assert claims["scope"] == "cases:read cases:write"
    assert claims["exp"] - claims["iat"] == 300
    assert claims["nbf"] == claims["iat"]
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16


async def test_secret_post_issues_a_token(
    api: AsyncTestClient[Litestar], client_secret: str
) -> None:
    response = await api.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "svc-secret",
            "client_secret": client_secret,
            "scope": "cases:write",
        },
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "cases:write"


async def test_wrong_secret_is_invalid_client(
    api: AsyncTestClient[Litestar], client_secret: str
) -> None:
    basic = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("svc-secret", client_secret + "x"),
    )
    assert basic.status_code == 401
    assert basic.json()["error"] == "invalid_client"
    assert basic.headers["www-authenticate"] == 'Basic realm="casegate"'
    posted = await api.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "svc-secret",
            "client_secret": "not-it",
        },
    )
    assert posted.status_code == 401
    assert posted.json()["error"] == "invalid_client"
    unknown = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("nobody", client_secret),
    )
    assert unknown.status_code == 401
    assert unknown.json() == posted.json()


async def test_private_key_jwt_es384_and_rs384(
    api: AsyncTestClient[Litestar],
    es384_client_key: Any,
    rs384_client_key: Any,
    assertion_request: Form,
    settings: AuthSettings,
    tmp_path: Any,
) -> None:
    for client_id, key in (("svc-es384", es384_client_key), ("svc-rs384", rs384_client_key)):
        response = await api.post(
            "/oauth/token", data=assertion_request(key.assertion(client_id, TOKEN_URL))
        )
        assert response.status_code == 200, response.text
        principal = await _verify(settings, tmp_path, response.json()["access_token"])
        assert principal.client_id == client_id


async def test_assertion_with_client_id_form_field_must_match_iss(
    api: AsyncTestClient[Litestar], es384_client_key: Any, assertion_request: Form
) -> None:
    form = assertion_request(es384_client_key.assertion("svc-es384", TOKEN_URL))
    matching = await api.post("/oauth/token", data={**form, "client_id": "svc-es384"})
    assert matching.status_code == 200
    form = assertion_request(es384_client_key.assertion("svc-es384", TOKEN_URL))
    other = await api.post("/oauth/token", data={**form, "client_id": "svc-rs384"})
    assert other.status_code == 401


async def _expect_invalid_client(api: AsyncTestClient[Litestar], form: dict[str, str]) -> None:
    response = await api.post("/oauth/token", data=form)
    assert response.status_code == 401, response.text
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "client authentication failed",
    }


async def test_assertion_signed_hs256_is_rejected(
    api: AsyncTestClient[Litestar], es384_client_key: Any, assertion_request: Form
) -> None:
    # The classic confusion: HMAC keyed with the client's public key, which anyone can fetch.
    public_pem = es384_client_key.key.as_pem(private=False)
    header = _b64(json.dumps({"alg": "HS256", "kid": es384_client_key.kid}).encode())
    now = int(time.time())
    claims = {"iss": "svc-es384", "sub": "svc-es384", "aud": TOKEN_URL, "exp": now + 60}
    payload = _b64(json.dumps({**claims, "jti": "hs"}).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    await _expect_invalid_client(api, assertion_request(f"{header}.{payload}.{_b64(signature)}"))


async def test_assertion_without_kid_is_rejected(
    api: AsyncTestClient[Litestar], es384_client_key: Any, assertion_request: Form
) -> None:
    now = int(time.time())
    claims = {
        "iss": "svc-es384",
        "sub": "svc-es384",
        "aud": TOKEN_URL,
        "exp": now + 60,
        "jti": "no-kid",
    }
    assertion = es384_client_key.sign({"alg": "ES384"}, claims)
    await _expect_invalid_client(api, assertion_request(assertion))


async def test_assertion_expiring_more_than_five_minutes_ahead_is_rejected(
    api: AsyncTestClient[Litestar], es384_client_key: Any, assertion_request: Form
) -> None:
    far = es384_client_key.assertion("svc-es384", TOKEN_URL, exp_in=3600)
    await _expect_invalid_client(api, assertion_request(far))
    expired = es384_client_key.assertion("svc-es384", TOKEN_URL, exp_in=-600)
    await _expect_invalid_client(api, assertion_request(expired))


async def test_reused_jti_is_rejected(
    api: AsyncTestClient[Litestar], es384_client_key: Any, assertion_request: Form
) -> None:
    first = es384_client_key.assertion("svc-es384", TOKEN_URL, jti="once-only")
    assert (await api.post("/oauth/token", data=assertion_request(first))).status_code == 200
    await _expect_invalid_client(api, assertion_request(first))
    again = es384_client_key.assertion("svc-es384", TOKEN_URL, jti="once-only")
    await _expect_invalid_client(api, assertion_request(again))


async def test_failed_assertion_does_not_burn_its_jti(
    api: AsyncTestClient[Litestar], es384_client_key: Any, assertion_request: Form
) -> None:
    wrong_aud = es384_client_key.assertion("svc-es384", "https://elsewhere/token", jti="j-1")
    await _expect_invalid_client(api, assertion_request(wrong_aud))
    good = es384_client_key.assertion("svc-es384", TOKEN_URL, jti="j-1")
    assert (await api.post("/oauth/token", data=assertion_request(good))).status_code == 200


async def test_assertion_claim_and_key_mismatches_are_rejected(
    api: AsyncTestClient[Litestar],
    es384_client_key: Any,
    rs384_client_key: Any,
    assertion_request: Form,
) -> None:
    cases = [
        es384_client_key.assertion("svc-es384", "https://elsewhere/token"),
        es384_client_key.assertion("svc-es384", TOKEN_URL, claims={"sub": "svc-rs384"}),
        # svc-es384 names itself, but signs with the RS384 client's key
        rs384_client_key.assertion("svc-es384", TOKEN_URL, header={"kid": es384_client_key.kid}),
        es384_client_key.assertion("svc-es384", TOKEN_URL, header={"kid": "not-registered"}),
        es384_client_key.assertion("svc-es384", TOKEN_URL, header={"jku": "https://evil/jwks"}),
        es384_client_key.assertion("unknown-client", TOKEN_URL),
        es384_client_key.assertion("svc-es384", TOKEN_URL, claims={"nbf": time.time() + 900}),
        "not.a.jwt",
    ]
    for assertion in cases:
        await _expect_invalid_client(api, assertion_request(assertion))


async def test_assertion_type_must_be_jwt_bearer(
    api: AsyncTestClient[Litestar], es384_client_key: Any, assertion_request: Form
) -> None:
    form = assertion_request(es384_client_key.assertion("svc-es384", TOKEN_URL))
    form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    await _expect_invalid_client(api, form)
    del form["client_assertion_type"]
    response = await api.post("/oauth/token", data=form)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_scope_must_be_a_subset_of_the_registration(
    api: AsyncTestClient[Litestar],
    client_secret: str,
    es384_client_key: Any,
    assertion_request: Form,
) -> None:
    too_wide = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "cases:read admin"},
        auth=("svc-secret", client_secret),
    )
    assert too_wide.status_code == 400
    assert too_wide.json()["error"] == "invalid_scope"
    jwt_client = await api.post(
        "/oauth/token",
        data=assertion_request(
            es384_client_key.assertion("svc-es384", TOKEN_URL), scope="cases:write"
        ),
    )
    assert jwt_client.status_code == 400
    assert jwt_client.json()["error"] == "invalid_scope"


async def test_grant_type_and_request_shape(
    api: AsyncTestClient[Litestar], client_secret: str
) -> None:
    auth = ("svc-secret", client_secret)
    wrong_grant = await api.post("/oauth/token", data={"grant_type": "password"}, auth=auth)
    assert wrong_grant.status_code == 400
    assert wrong_grant.json()["error"] == "unsupported_grant_type"

    no_grant = await api.post("/oauth/token", data={"scope": "cases:read"}, auth=auth)
    assert no_grant.status_code == 400
    assert no_grant.json()["error"] == "invalid_request"

    as_json = await api.post("/oauth/token", json={"grant_type": "client_credentials"}, auth=auth)
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"

    repeated = await api.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&scope=cases:read&scope=cases:write",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=auth,
    )
    assert repeated.status_code == 400
    assert repeated.json()["error"] == "invalid_request"

    not_utf8 = await api.post(
        "/oauth/token",
        content=b"grant_type=\xff\xfe",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=auth,
    )
    assert not_utf8.status_code == 400
    assert not_utf8.json()["error"] == "invalid_request"

    two_methods = await api.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "svc-secret",
            "client_secret": client_secret,
        },
        auth=auth,
    )
    assert two_methods.status_code == 400
    assert two_methods.json()["error"] == "invalid_request"

    anonymous = await api.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"

    garbled_basic = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"authorization": "Basic %%%not-base64"},
    )
    assert garbled_basic.status_code == 400
    assert garbled_basic.json()["error"] == "invalid_request"


async def test_discovery_documents(api: AsyncTestClient[Litestar], tmp_path: Any) -> None:
    jwks = (await api.get("/.well-known/jwks.json")).json()
    issuer_key = load_or_create_issuer_key(tmp_path)
    assert [key["kid"] for key in jwks["keys"]] == [issuer_key.kid]
    assert all("d" not in key for key in jwks["keys"])
    smart = (await api.get("/.well-known/smart-configuration")).json()
    assert smart["token_endpoint"] == TOKEN_URL
    assert smart["token_endpoint_auth_signing_alg_values_supported"] == ["ES384", "RS384"]
    assert "admin" in smart["scopes_supported"]  # the dev client is registered


async def test_client_keys_from_a_jwks_url(
    settings_with: Callable[..., AuthSettings],
    make_client: Callable[[AuthSettings], AsyncTestClient[Litestar]],
    es384_client_key: Any,
    assertion_request: Form,
    jwks_server: Any,
) -> None:
    jwks_server.document = es384_client_key.public_jwks()
    remote_client = {"client_id": "svc-remote", "tenant": "t-r", "scopes": ["cases:read"]}
    settings = settings_with(clients=[{**remote_client, "jwks_url": jwks_server.url}])
    async with make_client(settings) as api:
        plain = es384_client_key.assertion("svc-remote", TOKEN_URL)
        assert (await api.post("/oauth/token", data=assertion_request(plain))).status_code == 200
        with_jku = es384_client_key.assertion(
            "svc-remote", TOKEN_URL, header={"jku": jwks_server.url}
        )
        response = await api.post("/oauth/token", data=assertion_request(with_jku))
        assert response.status_code == 200
    assert jwks_server.hits == 1


async def test_oversized_token_request_is_refused(
    api: AsyncTestClient[Litestar], client_secret: str
) -> None:
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "padding": "x" * 20_000},
        auth=("svc-secret", client_secret),
    )
    assert response.status_code == 413


def test_replay_cache_forgets_only_expired_ids_and_refuses_when_full() -> None:
    now = [1000.0]
    cache = JtiReplayCache(max_entries=2, clock=lambda: now[0])
    assert cache.first_use("svc", "a", keep_until=1010)
    assert not cache.first_use("svc", "a", keep_until=1010)
    assert cache.first_use("other", "a", keep_until=1010)  # per issuer
    assert not cache.first_use("svc", "b", keep_until=1010)  # full: refuse, never forget
    now[0] = 1011
    assert cache.first_use("svc", "b", keep_until=1020)
    assert cache.first_use("svc", "a", keep_until=1020)  # its old entry expired
