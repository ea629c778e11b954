"""Who is asking for a token: client secret (basic or post) or a signed JWT assertion.

The assertion rules are SMART Backend Services' (RFC 7523 profile): RS384 or ES384 only, a
``kid`` naming one registered key of the matching type, ``iss`` = ``sub`` = client id, ``aud`` =
our token URL, ``exp`` at most five minutes ahead and a ``jti`` never seen before from that
client. Every assertion problem answers ``invalid_client`` as SMART requires; the precise reason
goes to the log, the caller learns only that authentication failed, so the endpoint does not
tell a prober which client ids exist. A ``jti`` is recorded only after the signature and claims
check out, so forged assertions cannot use up a client's identifiers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeGuard
from urllib.parse import unquote_plus

import structlog
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key

from connectors.secrets import SecretUnavailableError
from gateway.auth.jwks import RemoteKeySet, parse_public_jwks, pick_key
from gateway.auth.settings import ClientSettings

_log = structlog.get_logger("casegate.auth")

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = frozenset({"RS384", "ES384"})
MAX_ASSERTION_LIFETIME_SECONDS = 300
_MAX_JTI_CHARS = 256


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error; ``description`` is safe to send to the caller."""

    def __init__(
        self, error: str, description: str, *, status_code: int = 400, basic: bool = False
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status_code = status_code
        self.basic = basic


class _ClientRejectedError(Exception):
    """Internal: why authentication failed, for the log only."""


class JtiReplayCache:
    """Assertion ids already used, each kept until its assertion would have expired anyway.

    It refuses new entries when full rather than forgetting live ones: forgetting would let a
    captured assertion be replayed. Only authenticated clients can add entries.
    """

    def __init__(self, max_entries: int = 100_000, *, clock: Callable[[], float] = time.time):
        self._max_entries = max_entries
        self._clock = clock
        self._expiry: dict[tuple[str, str], float] = {}
        self._queue: list[tuple[float, tuple[str, str]]] = []

    def first_use(self, issuer: str, jti: str, keep_until: float) -> bool:
        now = self._clock()
        while self._queue and self._queue[0][0] <= now:
            _, expired = heapq.heappop(self._queue)
            del self._expiry[expired]
        key = (issuer, jti)
        if key in self._expiry or len(self._expiry) >= self._max_entries:
            return False
        self._expiry[key] = keep_until
        heapq.heappush(self._queue, (keep_until, key))
        return True


def _loggable_client(client_id: str | None, known: Mapping[str, ClientSettings]) -> str:
    """Known ids are logged as they are; anything else only hashed (it may be a pasted secret)."""
    if client_id is None:
        return "-"
    if client_id in known:
        return client_id
    return "unknown:" + hashlib.sha256(client_id.encode()).hexdigest()[:12]


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


class ClientAuthenticator:
    def __init__(
        self,
        clients: Iterable[ClientSettings],
        *,
        token_url: str,
        clock_skew_seconds: int,
        clock: Callable[[], float] = time.time,
        replay_cache: JtiReplayCache | None = None,
    ) -> None:
        self._clients = {client.client_id: client for client in clients}
        self._token_url = token_url
        self._skew = clock_skew_seconds
        self._clock = clock
        self._replay = replay_cache or JtiReplayCache(clock=clock)
        self._inline_keys: dict[str, list[Key]] = {
            c.client_id: parse_public_jwks(c.jwks, strict=True)
            for c in self._clients.values()
            if c.jwks is not None
        }
        self._remote_keys: dict[str, RemoteKeySet] = {
            c.client_id: RemoteKeySet(c.jwks_url)
            for c in self._clients.values()
            if c.jwks_url is not None
        }

    async def authenticate(
        self, authorization: str | None, form: Mapping[str, str]
    ) -> ClientSettings:
        basic = _basic_credentials(authorization)
        methods = [
            name
            for name, used in (
                ("client_secret_basic", basic is not None),
                ("client_secret_post", "client_secret" in form),
                ("private_key_jwt", "client_assertion" in form or "client_assertion_type" in form),
            )
            if used
        ]
        if len(methods) > 1:
            raise OAuthError("invalid_request", "use exactly one client authentication method")
        if not methods:
            raise OAuthError("invalid_client", "client authentication is required", status_code=401)
        claimed = form.get("client_id")
        try:
            if basic is not None:
                if claimed is not None and claimed != basic[0]:
                    raise _ClientRejectedError("client_id in the body differs from the header")
                claimed = basic[0]
                return self._by_secret(basic[0], basic[1])
            if "client_secret" in form:
                if claimed is None:
                    raise OAuthError("invalid_request", "client_id is required")
                return self._by_secret(claimed, form["client_secret"])
            return await self._by_assertion(form)
        except _ClientRejectedError as exc:
            _log.info(
                "client_authentication_failed",
                method=methods[0],
                client=_loggable_client(claimed, self._clients),
                reason=str(exc),
            )
            raise OAuthError(
                "invalid_client",
                "client authentication failed",
                status_code=401,
                basic=basic is not None,
            ) from None

    def _by_secret(self, client_id: str, presented: str) -> ClientSettings:
        client = self._clients.get(client_id)
        if client is None:
            raise _ClientRejectedError("unknown client")
        if client.secret is None:
            raise _ClientRejectedError("client has no secret registered")
        try:
            expected = client.secret.resolve()
        except SecretUnavailableError as exc:
            _log.error("client_secret_unavailable", client=client_id, reason=str(exc))
            raise _ClientRejectedError("client secret is unavailable") from None
        if not hmac.compare_digest(presented.encode(), expected.encode()):
            raise _ClientRejectedError("wrong secret")
        return client

    async def _by_assertion(self, form: Mapping[str, str]) -> ClientSettings:
        assertion_type = form.get("client_assertion_type")
        assertion = form.get("client_assertion")
        if assertion_type is None or assertion is None:
            raise OAuthError(
                "invalid_request", "client_assertion and client_assertion_type go together"
            )
        if assertion_type != ASSERTION_TYPE:
            raise _ClientRejectedError("unsupported client_assertion_type")
        try:
            signed = jws.extract_compact(assertion.encode("ascii"))
            claims: Any = json.loads(signed.payload)
        except (JoseError, ValueError, UnicodeError):
            raise _ClientRejectedError("assertion is not a compact JWS with JSON claims") from None
        header = signed.headers()
        alg = header.get("alg")
        if alg not in ASSERTION_ALGORITHMS:
            raise _ClientRejectedError("assertion alg is not RS384 or ES384")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _ClientRejectedError("assertion header has no kid")
        if not isinstance(claims, dict) or not isinstance(claims.get("iss"), str):
            raise _ClientRejectedError("assertion has no iss")
        client_id: str = claims["iss"]
        claimed = form.get("client_id")
        if claimed is not None and claimed != client_id:
            raise _ClientRejectedError("client_id differs from the assertion iss")
        client = self._clients.get(client_id)
        if client is None:
            raise _ClientRejectedError("unknown client")
        jku = header.get("jku")
        if jku is not None and jku != client.jwks_url:
            raise _ClientRejectedError("assertion jku is not the registered JWKS URL")
        key = await self._client_key(client_id, kid, alg)
        if key is None:
            raise _ClientRejectedError("no single registered key matches the assertion kid")
        try:
            valid = jws.validate_compact(signed, key, algorithms=[alg])
        except (JoseError, ValueError):
            valid = False
        if not valid:
            raise _ClientRejectedError("assertion signature is invalid")
        expires = self._check_assertion_claims(claims, client_id)
        if not self._replay.first_use(client_id, claims["jti"], expires + self._skew):
            raise _ClientRejectedError("assertion jti was already used")
        return client

    async def _client_key(self, client_id: str, kid: str, alg: str) -> Key | None:
        remote = self._remote_keys.get(client_id)
        if remote is not None:
            return await remote.key_for(kid, alg)
        return pick_key(self._inline_keys.get(client_id, ()), kid, alg)

    def _check_assertion_claims(self, claims: dict[str, Any], client_id: str) -> float:
        now = self._clock()
        if claims.get("sub") != client_id:
            raise _ClientRejectedError("assertion sub is not the client id")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self._token_url not in audiences:
            raise _ClientRejectedError("assertion aud is not this token URL")
        exp = claims.get("exp")
        if not _is_number(exp):
            raise _ClientRejectedError("assertion exp is missing or not a number")
        if exp <= now - self._skew:
            raise _ClientRejectedError("assertion has expired")
        if exp > now + MAX_ASSERTION_LIFETIME_SECONDS + self._skew:
            raise _ClientRejectedError("assertion exp is more than five minutes ahead")
        for claim in ("nbf", "iat"):
            value = claims.get(claim)
            if value is not None and (not _is_number(value) or value > now + self._skew):
                raise _ClientRejectedError(f"assertion {claim} is in the future or malformed")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= _MAX_JTI_CHARS:
            raise _ClientRejectedError("assertion jti is missing or malformed")
        return float(exp)


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """RFC 6749 section 2.3.1: form-encoded id and secret, joined by ':', in base64."""
    if authorization is None:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise OAuthError("invalid_request", "malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        raise OAuthError("invalid_request", "malformed Basic credentials")
    return unquote_plus(client_id), unquote_plus(secret)
