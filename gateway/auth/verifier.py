"""Access token verification for every API request.

Every request pays for this, and an ES384 signature check costs about half a millisecond here,
so a verified token is remembered (by the SHA-256 of its text, in a bounded LRU) until it
expires; a cache hit costs one hash and a dictionary lookup. The algorithm allow-list is
checked before any key is looked up, so ``none`` and HMAC tokens (including the classic HS256
"signed with the public key" forgery) are refused without touching key material.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import (
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key

from gateway.auth.jwks import KEY_TYPE_FOR_ALG, RemoteKeySet, pick_key
from gateway.auth.keys import IssuerKey
from gateway.auth.principal import Principal
from gateway.auth.settings import AuthSettings, ClientSettings

ALLOWED_ALGORITHMS = frozenset(KEY_TYPE_FOR_ALG)
MAX_TOKEN_CHARS = 8192


class TokenRejectedError(Exception):
    """The token is not acceptable; ``reason`` is safe to show the caller (it never quotes it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenVerifier:
    """Checks signature, ``iss``, ``aud``, ``exp`` and ``nbf`` and returns the caller.

    Keys come from the embedded issuer (``local_keys``), from an IdP's JWKS URL
    (``remote_keys``), or both. A token without a ``tenant`` claim takes the tenant of the
    configured client named by its ``client_id``/``sub``, so tokens from an external IdP that
    knows nothing of tenants still map to one; a token that maps to none is refused.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        clock_skew_seconds: int,
        local_keys: Iterable[Key] = (),
        remote_keys: RemoteKeySet | None = None,
        client_tenants: Mapping[str, str] | None = None,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._skew = clock_skew_seconds
        self._local_keys = list(local_keys)
        self._remote_keys = remote_keys
        self._client_tenants = dict(client_tenants or {})
        self._cache_size = cache_size
        self._clock = clock
        self._cache: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()

    @classmethod
    def from_settings(
        cls,
        settings: AuthSettings,
        issuer_key: IssuerKey | None,
        *,
        clients: Iterable[ClientSettings] = (),
    ) -> TokenVerifier:
        local = [issuer_key.verification_key()] if issuer_key is not None else []
        remote = RemoteKeySet(settings.jwks_url) if settings.jwks_url else None
        return cls(
            issuer=settings.issuer,
            audience=settings.audience,
            clock_skew_seconds=settings.clock_skew_seconds,
            local_keys=local,
            remote_keys=remote,
            client_tenants={c.client_id: c.tenant for c in (*settings.clients, *clients)},
        )

    async def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenRejectedError("token is too large")
        digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None:
            principal, expires = cached
            if now < expires + self._skew:
                self._cache.move_to_end(digest)
                return principal
            del self._cache[digest]
            raise TokenRejectedError("token has expired")
        principal = await self._verify_signed(token, digest, now)
        self._cache[digest] = (principal, principal.expires_at.timestamp())
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    async def _verify_signed(self, token: str, digest: bytes, now: float) -> Principal:
        try:
            header = jws.extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError):
            raise TokenRejectedError("token is not a compact JWS") from None
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise TokenRejectedError("token algorithm is not allowed (RS256, RS384, ES384)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRejectedError("token header has no kid")
        key = await self._key_for(kid, alg)
        if key is None:
            raise TokenRejectedError("token is signed with an unknown key")
        try:
            claims = jwt.decode(token, key, algorithms=[alg]).claims
        except (JoseError, ValueError):
            raise TokenRejectedError("token signature is invalid") from None
        self._check_claims(claims, int(now))
        return self._principal(claims, digest)

    async def _key_for(self, kid: str, alg: str) -> Key | None:
        key = pick_key(self._local_keys, kid, alg)
        if key is None and self._remote_keys is not None:
            key = await self._remote_keys.key_for(kid, alg)
        return key

    def _check_claims(self, claims: dict[str, Any], now: int) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=now,
            leeway=self._skew,
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise TokenRejectedError("token has expired") from None
        except MissingClaimError as exc:
            raise TokenRejectedError(f"token lacks claims: {exc.claim}") from None
        except InvalidClaimError as exc:
            claim = exc.claim
            if claim == "nbf":
                raise TokenRejectedError("token is not valid yet") from None
            if claim == "iat":
                raise TokenRejectedError("token was issued in the future") from None
            raise TokenRejectedError(f"token claim {claim} is not acceptable") from None

    def _principal(self, claims: dict[str, Any], digest: bytes) -> Principal:
        client_id = claims.get("client_id", claims["sub"])
        if not isinstance(client_id, str) or not client_id:
            raise TokenRejectedError("token client_id is not a string")
        tenant = claims.get("tenant", self._client_tenants.get(client_id))
        if not isinstance(tenant, str) or not tenant:
            raise TokenRejectedError("token names no tenant")
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise TokenRejectedError("token scope is not a space-separated string")
        jti = claims.get("jti")
        if jti is None:
            jti = f"sha256:{digest.hex()[:32]}"
        elif not isinstance(jti, str) or not jti:
            raise TokenRejectedError("token jti is not a string")
        try:
            expires_at = datetime.fromtimestamp(claims["exp"], tz=UTC)
        except (OverflowError, ValueError, OSError):
            raise TokenRejectedError("token exp is out of range") from None
        return Principal(
            client_id=client_id,
            tenant=tenant,
            scopes=frozenset(scope.split()),
            jti=jti,
            expires_at=expires_at,
        )


def token_fingerprint(token: str) -> str:
    """A short stable hash to correlate log lines about one token without logging the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()[:16]
