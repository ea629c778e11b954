"""Public key sets: reading them safely and fetching them from an identity provider.

Keys are picked by ``kid`` and by a key type that fits the token's ``alg`` (SMART: "if no keys
match, or more than one key matches, the verification fails"), so a key published for one
algorithm is never tried with another. A remote set is refetched when an unknown ``kid``
appears, because that is how a provider's key rotation shows up, but at most once per interval:
a flood of tokens with made-up ``kid`` values must not become a flood of requests to the IdP.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import structlog
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, RSAKey, import_key

_log = structlog.get_logger("casegate.auth.jwks")

#: The algorithms casegate accepts anywhere, and the key each needs.
KEY_TYPE_FOR_ALG: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "ES384": ("EC", "P-384"),
}
_MIN_RSA_BITS = 2048
_MAX_JWKS_BYTES = 256 * 1024


class JwksError(ValueError):
    """A key set document is not a usable public JWKS."""


def key_fits(key: Key, alg: str) -> bool:
    """True when ``key`` is the kind of key ``alg`` signs with (RSA for RS*, P-384 for ES384)."""
    wanted = KEY_TYPE_FOR_ALG.get(alg)
    if wanted is None:
        return False
    kty, curve = wanted
    if key.key_type != kty:
        return False
    if curve is not None:
        return isinstance(key, ECKey) and key.curve_name == curve
    return True


def _import_public_key(entry: object) -> Key:
    if not isinstance(entry, dict):
        raise JwksError("each key must be a JSON object")
    if "d" in entry or "p" in entry or "k" in entry:
        raise JwksError("a public key set must not hold private or symmetric key material")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise JwksError("every key needs a non-empty kid")
    use = entry.get("use")
    if use is not None and use != "sig":
        raise JwksError(f"key {kid} is not a signing key (use={use})")
    if entry.get("kty") not in ("RSA", "EC"):
        raise JwksError(f"key {kid} has an unsupported kty (RSA and EC only)")
    try:
        key = import_key(entry)
    except (JoseError, ValueError, TypeError) as exc:
        raise JwksError(f"key {kid} cannot be read ({type(exc).__name__})") from None
    if isinstance(key, RSAKey) and key.raw_value.key_size < _MIN_RSA_BITS:
        raise JwksError(f"key {kid} is an RSA key shorter than {_MIN_RSA_BITS} bits")
    return key


def parse_public_jwks(document: object, *, strict: bool) -> list[Key]:
    """Read a JWKS document into public keys.

    ``strict`` refuses the whole set on the first bad key (configuration, where a mistake must
    stop the start); otherwise bad keys are skipped (a provider's set may publish key types we
    do not use, and one odd key must not lock every caller out).
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError('a JWKS is a JSON object with a "keys" array')
    keys: list[Key] = []
    for entry in document["keys"]:
        try:
            keys.append(_import_public_key(entry))
        except JwksError:
            if strict:
                raise
    return keys


def pick_key(keys: Iterable[Key], kid: str, alg: str) -> Key | None:
    """The single key with this ``kid`` that fits ``alg``; none when absent or ambiguous."""
    matches = [key for key in keys if key.kid == kid and key_fits(key, alg)]
    return matches[0] if len(matches) == 1 else None


class RemoteKeySet:
    """A JWKS URL's keys, cached, refetched on an unknown ``kid`` or when older than ``max_age``.

    Refetches are throttled to one per ``min_refresh_interval`` seconds whatever triggers them,
    and a failed fetch keeps the keys already held (an IdP outage must not reject tokens signed
    by keys we already trust).
    """

    def __init__(
        self,
        url: str,
        *,
        min_refresh_interval: float = 30.0,
        max_age: float = 3600.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._min_refresh_interval = min_refresh_interval
        self._max_age = max_age
        self._timeout = timeout
        self._clock = clock
        self._keys: list[Key] = []
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str, alg: str) -> Key | None:
        key = pick_key(self._keys, kid, alg)
        fresh = self._fetched_at is not None and self._clock() - self._fetched_at < self._max_age
        if key is not None and fresh:
            return key
        await self._refresh()
        return pick_key(self._keys, kid, alg)

    async def _refresh(self) -> None:
        async with self._lock:
            now = self._clock()
            if (
                self._attempted_at is not None
                and now - self._attempted_at < self._min_refresh_interval
            ):
                return
            self._attempted_at = now
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, JwksError) as exc:
                _log.warning(
                    "jwks_fetch_failed", url=self.url, error=type(exc).__name__, reason=str(exc)
                )
                return
            self._keys = keys
            self._fetched_at = now
            _log.info("jwks_fetched", url=self.url, keys=len(keys))

    async def _fetch(self) -> list[Key]:
        async with (
            httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client,
            client.stream("GET", self.url, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise JwksError(f"JWKS URL answered HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > _MAX_JWKS_BYTES:
                    raise JwksError(f"JWKS document is larger than {_MAX_JWKS_BYTES} bytes")
        try:
            document: Any = json.loads(body)
        except ValueError:
            raise JwksError("JWKS document is not JSON") from None
        return parse_public_jwks(document, strict=False)
