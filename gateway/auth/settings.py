"""Auth configuration, nested by the gateway's settings under ``auth:``.

Client secrets are never written into configuration: a client names where its secret lives
(``env:NAME`` or ``file:/path``) and the value is read only when a token request needs it, so a
dumped or logged settings object cannot leak one. Inline client key sets are checked here, at
load time, so that a private key pasted by mistake or a key without ``kid`` stops the start
instead of failing the first token request.
"""

from __future__ import annotations

import re
from typing import Any, Self
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from connectors.secrets import SecretRef
from gateway.auth.jwks import JwksError, parse_public_jwks

# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _check_key_set_url(url: str) -> str:
    """A key set decides who may call us, so it comes over TLS unless it is on this machine."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return url
    raise ValueError("a JWKS URL must be https (plain http only on a loopback host)")


class ClientSettings(BaseModel):
    """One caller allowed to obtain tokens, with the scopes it may ever hold."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    client_id: str
    tenant: str = Field(min_length=1, max_length=128)
    scopes: list[str] = Field(min_length=1)
    secret: SecretRef | None = None
    jwks: dict[str, Any] | None = None
    jwks_url: str | None = None

    @field_validator("client_id")
    @classmethod
    def _client_id_shape(cls, value: str) -> str:
        if not _CLIENT_ID.fullmatch(value):
            raise ValueError(
                "client_id must be 1-128 characters of letters, digits and . _ : @ -, "
                "starting with a letter or digit"
            )
        return value

    @field_validator("scopes")
    @classmethod
    def _scope_tokens(cls, value: list[str]) -> list[str]:
        for scope in value:
            if not _SCOPE_TOKEN.fullmatch(scope):
                raise ValueError("a scope is one RFC 6749 scope-token: no spaces, quotes or \\")
        return value

    @field_validator("jwks")
    @classmethod
    def _public_key_set(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            parse_public_jwks(value, strict=True)
        except JwksError as exc:
            raise ValueError(f"client jwks: {exc}") from None
        return value

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url_transport(cls, value: str | None) -> str | None:
        return None if value is None else _check_key_set_url(value)

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> Self:
        if self.jwks is not None and self.jwks_url is not None:
            raise ValueError("give a client jwks or a jwks_url, not both")
        if self.secret is None and self.jwks is None and self.jwks_url is None:
            raise ValueError("a client needs a secret, a jwks or a jwks_url to authenticate")
        return self


class AuthSettings(BaseModel):
    """How tokens are issued and checked.

    ``issuer`` is both the ``iss`` of tokens and the base of the token URL, so it must be the
    address callers use (the public one behind a proxy): private_key_jwt assertions are
    addressed to it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    issuer: str = "http://127.0.0.1:8080"
    audience: str = Field(default="casegate", min_length=1)
    token_ttl_seconds: int = Field(default=300, ge=1, le=3600)
    clock_skew_seconds: int = Field(default=60, ge=0, le=300)
    embedded_issuer: bool = True
    jwks_url: str | None = None
    clients: list[ClientSettings] = Field(default_factory=list)
    rate_limit_per_second: float = Field(default=2000.0, gt=0)
    burst: int = Field(default=4000, ge=1)

    @field_validator("issuer")
    @classmethod
    def _issuer_is_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("issuer must be an http(s) base URL such as https://gateway.example")
        if parts.query or parts.fragment:
            raise ValueError("issuer must not carry a query or fragment")
        return value.rstrip("/")

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url_transport(cls, value: str | None) -> str | None:
        return None if value is None else _check_key_set_url(value)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if not self.embedded_issuer and self.jwks_url is None:
            raise ValueError("with embedded_issuer off, jwks_url must name the issuer's key set")
        seen: set[str] = set()
        for client in self.clients:
            if client.client_id in seen:
                raise ValueError(f"client_id {client.client_id} is configured twice")
            seen.add(client.client_id)
        return self

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/oauth/token"
