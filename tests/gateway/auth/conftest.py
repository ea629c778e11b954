"""Shared pieces for the auth tests: client key pairs, a loopback JWKS server, a small app."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from litestar import Litestar, Request, get, post
from litestar.testing import AsyncTestClient

from gateway.auth import AuthPlugin, AuthSettings, principal_of, require_scopes
from gateway.auth.client_auth import ASSERTION_TYPE

SECRET_ENV = "CASEGATE_TEST_CLIENT_SECRET"


class ClientKeyPair:
    """A client's signing key for private_key_jwt, as a client would hold it."""

    def __init__(self, alg: str) -> None:
        self.alg = alg
        self.key: ECKey | RSAKey = (
            ECKey.generate_key("P-384", auto_kid=False)
            if alg == "ES384"
            else RSAKey.generate_key(2048, auto_kid=False)
        )
        self.kid = self.key.thumbprint()

    def public_jwks(self) -> dict[str, Any]:
        public = dict(self.key.as_dict(private=False))
        public["kid"] = self.kid
        return {"keys": [public]}

    def sign(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        return jwt.encode(header, claims, self.key, algorithms=[header["alg"]])

    def assertion(
        self,
        client_id: str,
        aud: str,
        *,
        exp_in: float = 120,
        jti: str | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        now = time.time()
        body: dict[str, Any] = {
            "iss": client_id,
            "sub": client_id,
            "aud": aud,
            "exp": int(now + exp_in),
            "iat": int(now),
            "jti": jti or secrets.token_hex(12),
        }
        body.update(claims or {})
        return self.sign({"alg": self.alg, "kid": self.kid, "typ": "JWT", **(header or {})}, body)


@pytest.fixture(scope="session")
def es384_client_key() -> ClientKeyPair:
    return ClientKeyPair("ES384")


@pytest.fixture(scope="session")
def rs384_client_key() -> ClientKeyPair:
    return ClientKeyPair("RS384")


@pytest.fixture
def client_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    value = "canary-secret-" + secrets.token_hex(16)
    monkeypatch.setenv(SECRET_ENV, value)
    return value


def _auth_settings(es384: ClientKeyPair, rs384: ClientKeyPair, **overrides: Any) -> AuthSettings:
    fields: dict[str, Any] = {
        "rate_limit_per_second": 1_000_000,
        "burst": 1_000_000,
        "clients": [
            {
                "client_id": "svc-secret",
                "tenant": "tenant-a",
                "scopes": ["cases:read", "cases:write"],
                "secret": f"env:{SECRET_ENV}",
            },
            {
                "client_id": "svc-es384",
                "tenant": "tenant-b",
                "scopes": ["cases:read"],
                "jwks": es384.public_jwks(),
            },
            {
                "client_id": "svc-rs384",
                "tenant": "tenant-c",
                "scopes": ["cases:read", "cases:write"],
                "jwks": rs384.public_jwks(),
            },
        ],
    }
    fields.update(overrides)
    return AuthSettings.model_validate(fields)


@pytest.fixture
def settings_with(
    es384_client_key: ClientKeyPair, rs384_client_key: ClientKeyPair, client_secret: str
) -> Callable[..., AuthSettings]:
    """Settings with three clients (secret, ES384 key, RS384 key) and the given overrides."""

    def _settings(**overrides: Any) -> AuthSettings:
        return _auth_settings(es384_client_key, rs384_client_key, **overrides)

    return _settings


@pytest.fixture
def settings(settings_with: Callable[..., AuthSettings]) -> AuthSettings:
    return settings_with()


@get("/v1/cases", guards=[require_scopes("cases:read")])
async def list_cases(request: Request[Any, Any, Any]) -> dict[str, Any]:
    principal = principal_of(request)
    return {
        "client_id": principal.client_id,
        "tenant": principal.tenant,
        "scopes": sorted(principal.scopes),
    }


@post("/v1/cases", guards=[require_scopes("cases:write")], status_code=202)
async def create_case(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {"tenant": principal_of(request).tenant}


@get("/v1/cases/health")
async def case_health() -> dict[str, str]:
    return {"status": "authenticated only"}


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/public/whoami", opt={"exclude_from_auth": True})
async def public_whoami(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {"client_id": principal_of(request).client_id}


def build_app(plugin: AuthPlugin) -> Litestar:
    return Litestar(
        [list_cases, create_case, case_health, health, public_whoami],
        plugins=[plugin],
    )


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[[AuthSettings], Litestar]:
    """A small API behind ``AuthPlugin``, its key files under the test's tmp_path."""

    def _make(settings: AuthSettings) -> Litestar:
        return build_app(AuthPlugin(settings, tmp_path))

    return _make


@pytest.fixture
def make_client(
    make_app: Callable[[AuthSettings], Litestar],
) -> Callable[[AuthSettings], AsyncTestClient[Litestar]]:
    def _make(settings: AuthSettings) -> AsyncTestClient[Litestar]:
        return AsyncTestClient(make_app(settings))

    return _make


@pytest.fixture
async def api(
    settings: AuthSettings, make_client: Callable[[AuthSettings], AsyncTestClient[Litestar]]
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with make_client(settings) as client:
        yield client


@pytest.fixture
def fetch_token(
    client_secret: str,
) -> Callable[..., Awaitable[str]]:
    """Gets a real token for ``svc-secret`` from the app's token endpoint."""

    async def _fetch(api: AsyncTestClient[Litestar], scope: str | None = None) -> str:
        data = {"grant_type": "client_credentials"}
        if scope is not None:
            data["scope"] = scope
        response = await api.post("/oauth/token", data=data, auth=("svc-secret", client_secret))
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    return _fetch


def assertion_form(assertion: str, scope: str | None = None) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    if scope is not None:
        form["scope"] = scope
    return form


@pytest.fixture
def assertion_request() -> Callable[..., dict[str, str]]:
    """The form of a private_key_jwt token request."""
    return assertion_form


class JwksServer:
    """A real HTTP server on loopback publishing a JWKS and counting how often it is asked."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                body = json.dumps(server.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/jwks.json"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> JwksServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    with JwksServer() as server:
        yield server
