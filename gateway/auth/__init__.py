"""Token auth for the gateway: embedded OAuth2 issuer, bearer verification, scopes, rate limits.

Mount it with ``AuthPlugin(settings.auth, home)``; routes then read the caller with
``principal_of(request)`` and demand scopes with ``guards=[require_scopes("cases:write")]``.
"""

from connectors.secrets import SecretRef
from gateway.auth.guards import principal_of, require_scopes
from gateway.auth.issuer import issuer_router, mint_token
from gateway.auth.keys import IssuerKey, dev_client, load_or_create_issuer_key
from gateway.auth.middleware import DEFAULT_EXCLUDED_PATHS, bearer_auth_middleware
from gateway.auth.plugin import AuthPlugin
from gateway.auth.principal import Principal
from gateway.auth.ratelimit import ClientRateLimiter
from gateway.auth.settings import AuthSettings, ClientSettings
from gateway.auth.verifier import TokenRejectedError, TokenVerifier

__all__ = [
    "DEFAULT_EXCLUDED_PATHS",
    "AuthPlugin",
    "AuthSettings",
    "ClientRateLimiter",
    "ClientSettings",
    "IssuerKey",
    "Principal",
    "SecretRef",
    "TokenRejectedError",
    "TokenVerifier",
    "bearer_auth_middleware",
    "dev_client",
    "issuer_router",
    "load_or_create_issuer_key",
    "mint_token",
    "principal_of",
    "require_scopes",
]
