"""OAuth2 client-credentials tokens for connectors, as SMART Backend Services asks for them.

A gateway sends many requests to one payer at once. Asking the token endpoint for each would
trip its rate limits, so one token is cached until shortly before it expires, and a refresh is
fetched once and shared by every request waiting for it. A 401 from the resource server means
the cached token is no good (revoked, rotated keys): it is dropped, and the next send fetches a
new one. The client assertion for `private_key_jwt` is signed afresh for every fetch, with a
new `jti` and a lifetime under the five minutes SMART allows.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import warnings
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from typing import Any, Literal, Self

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.errors import AuthError, ConnectorError, ProtocolError
from connectors.http import EndpointUrl, error_for_status, error_for_transport
from connectors.secrets import SecretRef, SecretUnavailableError

with warnings.catch_warnings():
    # authlib announces that it will move to the `httpx2` distribution; the locked environment
    # pins httpx, which authlib still supports. Without this every CLI start prints the notice.
    # Its warning module installs an "always" filter on import, so ours must come after it.
    from authlib.deprecate import AuthlibDeprecationWarning

    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuth2ClientAuth
    from authlib.oauth2.rfc7523 import PrivateKeyJWT

AuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt"]
SigningAlg = Literal["RS384", "ES384"]
ASSERTION_LIFETIME_SECONDS = 240
DEFAULT_TOKEN_LIFETIME_SECONDS = 60.0
# RFC 6749 section 5.2 error codes: a fixed vocabulary, safe to repeat in an error reason.
_OAUTH_ERROR_CODES = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    }
)


class OAuthClientConfig(BaseModel):
    """How a connector obtains its access token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_url: EndpointUrl
    client_id: str = Field(min_length=1, max_length=200)
    auth_method: AuthMethod = "client_secret_basic"
    client_secret: SecretRef | None = None
    private_key: SecretRef | None = Field(
        default=None, description="PEM private key, for private_key_jwt."
    )
    key_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The `kid` of the signing key."
    )
    signing_alg: SigningAlg = "RS384"
    scope: str | None = Field(default=None, min_length=1, max_length=1000)
    refresh_margin_seconds: float = Field(default=30, ge=0, le=600)

    @model_validator(mode="after")
    def _credentials_for_method(self) -> Self:
        if self.auth_method == "private_key_jwt":
            if self.private_key is None or self.key_id is None:
                raise ValueError("private_key_jwt needs private_key and key_id")
        elif self.client_secret is None:
            raise ValueError(f"{self.auth_method} needs client_secret")
        return self


@dataclass(frozen=True)
class _CachedToken:
    value: str
    refresh_at: float


class ClientCredentialsTokens:
    """A cached access token from the client-credentials grant, refreshed once for all waiters."""

    def __init__(
        self,
        config: OAuthClientConfig,
        *,
        timeout_seconds: float,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._config = config
        self._cached: _CachedToken | None = None
        self._inflight: asyncio.Future[_CachedToken] | None = None
        self._closed = False
        self._client = AsyncOAuth2Client(
            client_id=config.client_id,
            scope=config.scope,
            timeout=httpx.Timeout(timeout_seconds),
            verify=verify,
            follow_redirects=False,
        )
        self._client.register_compliance_hook("access_token_response", _classify_token_response)

    async def token(self) -> str:
        if self._closed:
            raise RuntimeError("the token source is closed")
        cached = self._cached
        if cached is not None and time.monotonic() < cached.refresh_at:
            return cached.value
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._fetch())
            self._inflight.add_done_callback(self._settle)
        # Shielded: a caller that gives up must not cancel the fetch the others wait on.
        return (await asyncio.shield(self._inflight)).value

    def invalidate(self, token: str) -> None:
        """Drop `token` if it is still the cached one (not a newer one fetched meanwhile)."""
        if self._cached is not None and self._cached.value == token:
            self._cached = None

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._client.aclose()

    def _settle(self, future: asyncio.Future[_CachedToken]) -> None:
        self._inflight = None
        if future.cancelled():
            return
        if future.exception() is None:
            self._cached = future.result()

    async def _fetch(self) -> _CachedToken:
        config = self._config
        auth = _client_auth(config)
        try:
            token: dict[str, Any] = await self._client.fetch_token(
                config.token_url, grant_type="client_credentials", auth=auth
            )
        except ConnectorError:
            raise
        except httpx.HTTPError as exc:
            raise error_for_transport(exc) from exc
        except OAuthError as exc:
            reason = f"token endpoint refused the client: {_error_code(exc.error)}"
            raise AuthError(reason) from None
        except (ValueError, KeyError, TypeError):
            # authlib's own parsing of a 200 answer that is not a token.
            raise ProtocolError("token endpoint answered off contract") from None
        return _cached_token(token, config.refresh_margin_seconds)


class BearerTokenAuth(httpx.Auth):
    """Adds the cached bearer token to each request and drops it when the server says 401."""

    def __init__(self, tokens: ClientCredentialsTokens) -> None:
        self._tokens = tokens

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("BearerTokenAuth needs an async HTTP client")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._tokens.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self._tokens.invalidate(token)


def _client_auth(config: OAuthClientConfig) -> OAuth2ClientAuth:
    """Client authentication for one token request, reading the credential at use."""
    try:
        if config.auth_method == "private_key_jwt":
            assert config.private_key is not None
            key = _signing_key(config.private_key.resolve(), config.signing_alg)
            assertion = PrivateKeyJWT(
                config.token_url,
                claims={"exp": int(time.time()) + ASSERTION_LIFETIME_SECONDS},
                headers={"kid": config.key_id},
                alg=config.signing_alg,
            )
            return OAuth2ClientAuth(config.client_id, key, auth_method=assertion)
        assert config.client_secret is not None
        secret = config.client_secret.resolve()
    except SecretUnavailableError as exc:
        raise AuthError(str(exc)) from None
    return OAuth2ClientAuth(config.client_id, secret, auth_method=config.auth_method)


def _signing_key(pem: str, alg: SigningAlg) -> RSAKey | ECKey:
    try:
        if alg == "RS384":
            return RSAKey.import_key(pem)
        key = ECKey.import_key(pem)
    except (JoseError, ValueError, TypeError):
        raise AuthError(f"private key cannot be loaded as a {alg} signing key") from None
    if key.curve_name != "P-384":
        raise AuthError("ES384 needs a P-384 private key")
    return key


def _classify_token_response(response: httpx.Response) -> httpx.Response:
    """Turn a failed token response into a connector error before authlib parses it."""
    status = response.status_code
    if status in (400, 401, 403):
        code = None
        try:
            body = response.json()
            code = body.get("error") if isinstance(body, dict) else None
        except ValueError:
            pass
        raise AuthError(f"token endpoint refused the client: {_error_code(code)} (HTTP {status})")
    error = error_for_status(status, response.headers.get("Retry-After"))
    if error is not None:
        raise error
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProtocolError("token endpoint answered something other than a JSON object")
    return response


def _error_code(code: object) -> str:
    return code if isinstance(code, str) and code in _OAUTH_ERROR_CODES else "unspecified error"


def _cached_token(token: dict[str, Any], margin: float) -> _CachedToken:
    value = token.get("access_token")
    if not isinstance(value, str) or not value:
        raise ProtocolError("token response has no access_token")
    token_type = token.get("token_type", "bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise ProtocolError("token response is not a bearer token")
    lifetime = token.get("expires_in", DEFAULT_TOKEN_LIFETIME_SECONDS)
    if isinstance(lifetime, str) and lifetime.isascii() and lifetime.isdigit():
        lifetime = int(lifetime)
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        raise ProtocolError("token response has an unusable expires_in")
    # Refresh `margin` seconds early, but never use less than half of a short-lived token.
    usable = max(float(lifetime) - margin, float(lifetime) / 2)
    return _CachedToken(value, time.monotonic() + usable)
