"""The embedded OAuth2 issuer: ``POST /oauth/token`` and the key set that verifies its tokens.

It speaks only the client credentials grant, because casegate's callers are services, and
issues short-lived ES384 JWTs with no refresh token (SMART Backend Services). The form body is
parsed here rather than by the framework so that every malformed request gets an RFC 6749
error document instead of a framework validation error.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import structlog
from joserfc import jwt
from litestar import Request, Response, Router, get, post

from gateway.auth.client_auth import (
    ASSERTION_ALGORITHMS,
    ClientAuthenticator,
    OAuthError,
)
from gateway.auth.keys import ISSUER_ALG, IssuerKey
from gateway.auth.middleware import audit_authentication_failure
from gateway.auth.settings import AuthSettings, ClientSettings
from gateway.auth.verifier import token_fingerprint

_log = structlog.get_logger("casegate.auth")

TOKEN_PATH = "/oauth/token"  # noqa: S105 (a URL path, not a credential)
JWKS_PATH = "/.well-known/jwks.json"
SMART_CONFIGURATION_PATH = "/.well-known/smart-configuration"
_FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
_MAX_FORM_BYTES = 16 * 1024
_MAX_FORM_FIELDS = 16
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def scope_string(scopes: Collection[str]) -> str:
    return " ".join(sorted(scopes))


def mint_token(
    issuer_key: IssuerKey,
    settings: AuthSettings,
    client: ClientSettings,
    scopes: Collection[str],
    *,
    now: float | None = None,
) -> str:
    """A signed access token for ``client``; also what ``casegate token`` prints.

    Refuses scopes the client is not registered for, so no caller of this function can widen
    a client's access.
    """
    beyond = set(scopes) - set(client.scopes)
    if beyond:
        raise ValueError(f"client {client.client_id} is not registered for scopes {sorted(beyond)}")
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": client.client_id,
        "client_id": client.client_id,
        "tenant": client.tenant,
        "scope": scope_string(scopes),
        "iat": issued,
        "nbf": issued,
        "exp": issued + settings.token_ttl_seconds,
        "jti": secrets.token_urlsafe(18),
    }
    header = {"alg": ISSUER_ALG, "kid": issuer_key.kid}
    return jwt.encode(header, claims, issuer_key.private_key, algorithms=[ISSUER_ALG])


def _parse_form(body: bytes) -> dict[str, str]:
    """Form fields, blank ones dropped (RFC 6749 section 3.1), a repeated one refused."""
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=_MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise OAuthError(
            "invalid_request", "the body is not a UTF-8 form of at most 16 fields"
        ) from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", "a parameter is repeated")
        if value:
            form[name] = value
    return form


def _granted_scopes(client: ClientSettings, requested: str | None) -> list[str]:
    """No ``scope`` asks for everything the client is registered for (RFC 6749 section 3.3)."""
    if requested is None:
        return list(client.scopes)
    wanted = requested.split()
    if not wanted or not set(wanted) <= set(client.scopes):
        raise OAuthError("invalid_scope", "the requested scope exceeds the client's registration")
    return wanted


def _oauth_error_response(error: OAuthError) -> Response[dict[str, str]]:
    headers = dict(_NO_STORE)
    if error.basic:
        headers["WWW-Authenticate"] = 'Basic realm="casegate"'
    return Response(
        {"error": error.error, "error_description": error.description},
        status_code=error.status_code,
        headers=headers,
    )


class TokenIssuer:
    """Authenticates the client, checks the requested scope and mints the token."""

    def __init__(
        self,
        settings: AuthSettings,
        issuer_key: IssuerKey,
        authenticator: ClientAuthenticator,
    ) -> None:
        self._settings = settings
        self._issuer_key = issuer_key
        self._authenticator = authenticator

    async def token_response(
        self, content_type: str, authorization: str | None, body: bytes
    ) -> Response[Any]:
        try:
            if content_type.partition(";")[0].strip().lower() != _FORM_MEDIA_TYPE:
                raise OAuthError("invalid_request", f"the body must be {_FORM_MEDIA_TYPE}")
            form = _parse_form(body)
            grant_type = form.get("grant_type")
            if grant_type is None:
                raise OAuthError("invalid_request", "grant_type is required")
            if grant_type != "client_credentials":
                raise OAuthError("unsupported_grant_type", "only client_credentials is supported")
            client = await self._authenticator.authenticate(authorization, form)
            scopes = _granted_scopes(client, form.get("scope"))
        except OAuthError as error:
            return _oauth_error_response(error)
        token = mint_token(self._issuer_key, self._settings, client, scopes)
        _log.info(
            "access_token_issued",
            client_id=client.client_id,
            tenant=client.tenant,
            scope=scope_string(scopes),
            token_sha256=token_fingerprint(token),
        )
        return Response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self._settings.token_ttl_seconds,
                "scope": scope_string(scopes),
            },
            headers=_NO_STORE,
        )


def smart_configuration(
    settings: AuthSettings, clients: Sequence[ClientSettings]
) -> dict[str, Any]:
    """What a SMART Backend Services client discovers before asking for a token."""
    return {
        "issuer": settings.issuer,
        "token_endpoint": settings.token_url,
        "jwks_uri": f"{settings.issuer}{JWKS_PATH}",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "token_endpoint_auth_signing_alg_values_supported": sorted(ASSERTION_ALGORITHMS),
        "scopes_supported": sorted({scope for client in clients for scope in client.scopes}),
        "capabilities": ["client-confidential-asymmetric", "client-confidential-symmetric"],
    }


def issuer_router(
    settings: AuthSettings,
    issuer_key: IssuerKey,
    clients: Sequence[ClientSettings],
) -> Router:
    """The token endpoint and the discovery documents, excluded from bearer authentication."""
    authenticator = ClientAuthenticator(
        clients, token_url=settings.token_url, clock_skew_seconds=settings.clock_skew_seconds
    )
    token_issuer = TokenIssuer(settings, issuer_key, authenticator)
    jwks_document = issuer_key.public_jwks()
    discovery = smart_configuration(settings, clients)
    public: Mapping[str, Any] = {"exclude_from_auth": True}

    @post(TOKEN_PATH, status_code=200, opt=dict(public), request_max_body_size=_MAX_FORM_BYTES)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        response = await token_issuer.token_response(
            request.headers.get("content-type", ""),
            request.headers.get("authorization"),
            await request.body(),
        )
        if (response.status_code or 200) >= 400:
            error = response.content.get("error") if isinstance(response.content, dict) else None
            await audit_authentication_failure(request, f"token endpoint: {error}")
        return response

    @get(JWKS_PATH, opt=dict(public))
    async def jwks() -> Response[Any]:
        return Response(jwks_document, headers={"Cache-Control": "public, max-age=300"})

    @get(SMART_CONFIGURATION_PATH, opt=dict(public))
    async def smart_config() -> Response[Any]:
        return Response(discovery, headers={"Cache-Control": "public, max-age=300"})

    return Router(path="/", route_handlers=[token, jwks, smart_config])
