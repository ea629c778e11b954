"""The payer sandbox's authorization server: client credentials in, bearer tokens out.

It checks what a strict payer checks, so a connector that passes here passes there: the
client secret (HTTP Basic or form), or a `private_key_jwt` assertion as SMART Backend Services
requires it (RS384/ES384, `kid` naming the registered key, `iss` = `sub` = client id, `aud` =
this token URL, `exp` at most five minutes ahead, a `jti` never seen before from that client).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any, Self

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey, import_key
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.secrets import SecretRef, SecretUnavailableError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("RS384", "ES384")
MAX_ASSERTION_LIFETIME_SECONDS = 300
CLOCK_SKEW_SECONDS = 5


class SandboxClient(BaseModel):
    """A client registered at the sandbox payer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1, max_length=200)
    client_secret: SecretRef | None = None
    public_jwk: dict[str, Any] | None = Field(
        default=None, description="The public key for private_key_jwt, with its kid."
    )
    scopes: frozenset[str] | None = Field(default=None, description="None allows any scope.")

    @field_validator("public_jwk")
    @classmethod
    def _public_key(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            key = import_key(value)
        except (JoseError, ValueError, TypeError):
            raise ValueError("public_jwk is not a JSON Web Key") from None
        if not isinstance(key, RSAKey | ECKey) or key.is_private or not value.get("kid"):
            raise ValueError("public_jwk must be a public RSA or EC key with a kid")
        return value

    @model_validator(mode="after")
    def _has_credential(self) -> Self:
        if self.client_secret is None and self.public_jwk is None:
            raise ValueError("a client needs client_secret or public_jwk")
        return self


class TokenRefused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


class TokenIssuer:
    """Issues and checks bearer tokens; safe to call from the server and control threads."""

    def __init__(self, clients: list[SandboxClient], ttl_seconds: float) -> None:
        self._clients = {client.client_id: client for client in clients}
        self._ttl = ttl_seconds
        self._tokens: dict[str, float] = {}
        self._seen_jti: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def reset_count(self) -> None:
        with self._lock:
            self.issued = 0

    def issue(self, form: Mapping[str, str], authorization: str | None, token_url: str) -> bytes:
        """The token response body; raises `TokenRefused` with the OAuth error otherwise."""
        if form.get("grant_type") != "client_credentials":
            raise TokenRefused(400, "unsupported_grant_type")
        client = self._authenticate(form, authorization, token_url)
        requested = frozenset(form.get("scope", "").split())
        if client.scopes is not None and not requested <= client.scopes:
            raise TokenRefused(400, "invalid_scope")
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self.issued += 1
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + self._ttl
        body: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(self._ttl) if self._ttl >= 1 else self._ttl,
        }
        if requested:
            body["scope"] = " ".join(sorted(requested))
        return json.dumps(body).encode()

    def is_valid(self, authorization: str | None) -> bool:
        if authorization is None or not authorization.startswith("Bearer "):
            return False
        with self._lock:
            expires = self._tokens.get(authorization.removeprefix("Bearer "))
        return expires is not None and expires > time.monotonic()

    def _authenticate(
        self, form: Mapping[str, str], authorization: str | None, token_url: str
    ) -> SandboxClient:
        if "client_assertion" in form:
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise TokenRefused(400, "invalid_request")
            return self._verify_assertion(form["client_assertion"], token_url)
        client_id, secret = _basic_credentials(authorization)
        if client_id is None:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        client = self._clients.get(client_id or "")
        if client is None or client.client_secret is None or secret is None:
            raise TokenRefused(401, "invalid_client")
        try:
            expected = client.client_secret.resolve()
        except SecretUnavailableError:
            raise TokenRefused(401, "invalid_client") from None
        if not hmac.compare_digest(expected.encode(), secret.encode()):
            raise TokenRefused(401, "invalid_client")
        return client

    def _verify_assertion(self, assertion: str, token_url: str) -> SandboxClient:
        try:
            unverified = jws.extract_compact(assertion.encode())
            header = unverified.headers()
            issuer = json.loads(unverified.payload).get("iss")
        except (JoseError, ValueError, TypeError, AttributeError):
            raise TokenRefused(401, "invalid_client") from None
        client = self._clients.get(issuer) if isinstance(issuer, str) else None
        if client is None or client.public_jwk is None:
            raise TokenRefused(401, "invalid_client")
        alg = header.get("alg")
        if alg not in ASSERTION_ALGORITHMS or header.get("kid") != client.public_jwk["kid"]:
            raise TokenRefused(401, "invalid_client")
        try:
            claims = jwt.decode(assertion, import_key(client.public_jwk), algorithms=[alg]).claims
        except (JoseError, ValueError, TypeError):
            raise TokenRefused(401, "invalid_client") from None
        self._check_claims(client.client_id, claims, token_url)
        return client

    def _check_claims(self, client_id: str, claims: dict[str, Any], token_url: str) -> None:
        now = time.time()
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        expires, jti = claims.get("exp"), claims.get("jti")
        if (
            claims.get("sub") != client_id
            or token_url not in audiences
            or not isinstance(expires, int | float)
            or not now < expires <= now + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS
            or not isinstance(jti, str)
            or not jti
        ):
            raise TokenRefused(401, "invalid_client")
        with self._lock:
            self._seen_jti = {k: exp for k, exp in self._seen_jti.items() if exp > now}
            if (client_id, jti) in self._seen_jti:
                raise TokenRefused(401, "invalid_client")
            self._seen_jti[(client_id, jti)] = float(expires)


def _basic_credentials(authorization: str | None) -> tuple[str | None, str | None]:
    if authorization is None or not authorization.startswith("Basic "):
        return None, None
    try:
        decoded = base64.b64decode(authorization.removeprefix("Basic "), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else (None, None)
