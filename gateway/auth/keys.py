"""Key material the embedded issuer creates for itself on first start.

Files are created owner-only (0600, in a 0700 directory) and published with a hard link, so a
second process starting at the same moment either wins the race or reads the complete file the
winner wrote, never a half-written one. A key file that others can read is refused, as ssh does:
anyone who can read it can mint tokens for every client.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, import_key

from connectors.secrets import SecretRef
from gateway.auth.settings import ClientSettings

ISSUER_KEY_FILE = "issuer-es384.json"
DEV_CLIENT_SECRET_FILE = "dev-client-secret"  # noqa: S105 (a file name, not the secret)
DEV_CLIENT_ID = "casegate-dev"
# The SMART system scopes are what an EHR needs for the PAS facade (gateway.fhir).
DEV_CLIENT_SCOPES = (
    "cases:read",
    "cases:write",
    "admin",
    "subscriptions:write",
    "system/Claim.write",
    "system/ClaimResponse.read",
    "system/Subscription.read",
    "system/Subscription.write",
)
ISSUER_ALG = "ES384"


class KeyFileError(RuntimeError):
    """A key file exists but cannot be used as it is (unreadable, malformed or too open)."""


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """The embedded issuer's P-384 signing key; ``kid`` is its RFC 7638 thumbprint."""

    private_key: ECKey
    kid: str

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = dict(self.private_key.as_dict(private=False))
        jwk.update(kid=self.kid, use="sig", alg=ISSUER_ALG)
        return jwk

    def public_jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The document served at ``/.well-known/jwks.json``."""
        return {"keys": [self.public_jwk]}

    def verification_key(self) -> ECKey:
        return import_key(self.public_jwk, "EC")


def _keys_dir(home: Path) -> Path:
    directory = home / "keys"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def _create_exclusively(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` only if it does not exist yet; False when it already did."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        return True
    finally:
        temp.unlink(missing_ok=True)


def _read_private_file(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise KeyFileError(f"{path} cannot be read ({type(exc).__name__})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path} is readable by others; restrict it with chmod 600")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path} cannot be read ({type(exc).__name__})") from None


def load_or_create_issuer_key(home: Path) -> IssuerKey:
    """The issuer key under ``home/keys``, generated on first start."""
    path = _keys_dir(home) / ISSUER_KEY_FILE
    if not path.exists():
        fresh = ECKey.generate_key("P-384", private=True, auto_kid=False)
        document = dict(fresh.as_dict(private=True))
        document.update(kid=fresh.thumbprint(), use="sig", alg=ISSUER_ALG)
        _create_exclusively(path, json.dumps(document, indent=2).encode())
    raw = _read_private_file(path)
    try:
        stored = json.loads(raw)
        if not isinstance(stored, dict):
            raise ValueError("not a JSON object")
        key = import_key(stored, "EC")
    except (ValueError, TypeError, JoseError) as exc:
        raise KeyFileError(f"{path} is not an EC private JWK ({type(exc).__name__})") from None
    if key.curve_name != "P-384" or not key.is_private:
        raise KeyFileError(f"{path} must hold a private P-384 key")
    return IssuerKey(private_key=key, kid=key.thumbprint())


def dev_client(home: Path) -> ClientSettings:
    """The development client, its secret generated on first start under ``home/keys``.

    The secret stays in its file and is referenced, never copied into settings, so printing
    the client shows only where the secret lives.
    """
    path = _keys_dir(home) / DEV_CLIENT_SECRET_FILE
    if not path.exists():
        _create_exclusively(path, secrets.token_urlsafe(32).encode())
    _read_private_file(path)
    return ClientSettings(
        client_id=DEV_CLIENT_ID,
        tenant="default",
        scopes=list(DEV_CLIENT_SCOPES),
        secret=SecretRef(f"file:{path.resolve()}"),
    )
