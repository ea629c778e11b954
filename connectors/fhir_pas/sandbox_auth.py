"""The PAS sandbox's SMART Backend Services token endpoint: keys come from each client's JWKS URL.

A SMART client registers a JWKS URL, not a key, so it can rotate keys without asking the payer
(the gateway publishes its own at `/.well-known/jwks.json`). The assertion's `kid` picks the key;
an unknown `kid` makes the payer fetch the set again, as a rotation would need. The checks on
the assertion itself (algorithm, audience, lifetime, replayed `jti`) are the payer_rest
sandbox's, which already play a strict payer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from pydantic import BaseModel, ConfigDict, Field

from connectors.http import EndpointUrl
from connectors.payer_rest.sandbox_auth import (
    ASSERTION_TYPE,
    SandboxClient,
    TokenIssuer,
    TokenRefused,
)

JWKS_TIMEOUT_SECONDS = 5.0
MAX_JWKS_BYTES = 256 * 1024


class SmartClient(BaseModel):
    """A backend client registered at the sandbox payer by its JWKS URL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1, max_length=200)
    jwks_url: EndpointUrl
    scopes: frozenset[str] | None = Field(default=None, description="None allows any scope.")


class JwksTokenIssuer(TokenIssuer):
    """Issues bearer tokens to clients whose assertion verifies against their published keys."""

    def __init__(self, clients: list[SmartClient], ttl_seconds: float) -> None:
        super().__init__([], ttl_seconds)
        self._registered = {client.client_id: client for client in clients}

    async def issue_for(
        self, form: Mapping[str, str], authorization: str | None, token_url: str
    ) -> bytes:
        """The token response body; raises `TokenRefused` with the OAuth error otherwise."""
        if form.get("client_assertion_type") != ASSERTION_TYPE or "client_assertion" not in form:
            # Backend Services knows no other client authentication.
            raise TokenRefused(401, "invalid_client")
        await self._learn_key(form["client_assertion"])
        return self.issue(form, authorization, token_url)

    async def _learn_key(self, assertion: str) -> None:
        """Make the client's key for this assertion's `kid` known to the verifier, if it has one."""
        try:
            unverified = jws.extract_compact(assertion.encode())
            kid = unverified.headers().get("kid")
            issuer = json.loads(unverified.payload).get("iss")
        except (JoseError, ValueError, TypeError, AttributeError):
            raise TokenRefused(401, "invalid_client") from None
        client = self._registered.get(issuer) if isinstance(issuer, str) else None
        if client is None or not isinstance(kid, str):
            raise TokenRefused(401, "invalid_client")
        known = self._clients.get(client.client_id)
        if known is not None and known.public_jwk is not None and known.public_jwk["kid"] == kid:
            return
        key = next((k for k in await _fetch_keys(client.jwks_url) if k.get("kid") == kid), None)
        if key is None:
            raise TokenRefused(401, "invalid_client")
        try:
            learned = SandboxClient(
                client_id=client.client_id, public_jwk=key, scopes=client.scopes
            )
        except ValueError:
            raise TokenRefused(401, "invalid_client") from None
        with self._lock:
            self._clients[client.client_id] = learned


async def _fetch_keys(url: str) -> list[dict[str, Any]]:
    try:
        async with httpx.AsyncClient(timeout=JWKS_TIMEOUT_SECONDS) as client:
            response = await client.get(url)
    except httpx.HTTPError:
        raise TokenRefused(401, "invalid_client") from None
    if response.status_code != 200 or len(response.content) > MAX_JWKS_BYTES:
        raise TokenRefused(401, "invalid_client")
    try:
        keys = response.json().get("keys")
    except (ValueError, AttributeError):
        raise TokenRefused(401, "invalid_client") from None
    return [k for k in keys if isinstance(k, dict)] if isinstance(keys, list) else []
