"""casegate's subscriptions at PAS payers: one rest-hook Subscription per payer endpoint.

PAS has the client learn of pended decisions by subscription (spec-8), one per sending
system rather than per request (spec-57/58), so a payer endpoint gets exactly one, however
many connector instances and cases reach it. Each carries a random secret in a header the
payer repeats on every notification; only its SHA-256 is stored, so the database alone cannot
forge a notification. The row is written before the payer is asked, so a notification that
arrives before the payer's answer is already recognised.

The gateway signs its token requests to payers with its own key (SMART Backend Services,
`private_key_jwt`), the one it publishes at `/.well-known/jwks.json`; `export_signing_key`
writes that key where a fhir_pas connector's `auth.private_key` can point.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import structlog
from sqlalchemy.exc import IntegrityError

from connectors.errors import ConnectorError
from connectors.fhir_pas.connector import FhirPasConnector
from gateway.auth.keys import load_or_create_issuer_key
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.store.ids import new_id
from gateway.store.schema import fhir_payer_subscriptions
from mappings.fhir_pas.subscriptions import subscription_resource

FHIR_PAS = "fhir_pas"
NOTIFICATION_PATH = "/fhir/notifications"
SECRET_HEADER = "X-Notification-Secret"  # noqa: S105 (a header name)
SIGNING_KEY_FILE = "issuer-es384.pem"
_log = structlog.get_logger("casegate.fhir.payer_subscriptions")


@dataclass(frozen=True)
class PayerSubscription:
    id: str
    endpoint: str
    connector: str
    remote_id: str | None
    secret_hash: str
    status: str

    def names_itself(self, reference: str) -> bool:
        """Whether a notification's subscription reference is this subscription at the payer
        (any reference will do while the payer's own id is not known yet)."""
        return self.remote_id is None or reference.rstrip("/").endswith(
            f"Subscription/{self.remote_id}"
        )


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def payer_endpoints(settings: Settings) -> dict[str, str]:
    """The fhir_pas connector instances by name, each with its payer's FHIR base."""
    return {
        name: str(spec.config.get("base_url", "")).rstrip("/")
        for name, spec in settings.connectors.items()
        if spec.kind == FHIR_PAS
    }


def follows_up_by_notification(settings: Settings, connector: str) -> bool:
    """Whether a pended case on `connector` waits for a notification instead of a follow-up
    `$inquire`: a fhir_pas connector, when payers can reach this gateway at all."""
    return settings.payer_follow_up.callback_base_url is not None and connector in payer_endpoints(
        settings
    )


async def find_subscription(runtime: Runtime, subscription_id: str) -> PayerSubscription | None:
    async with runtime.store.connect() as conn:
        row = (
            await conn.execute(
                sa.select(fhir_payer_subscriptions).where(
                    fhir_payer_subscriptions.c.id == subscription_id
                )
            )
        ).first()
    if row is None:
        return None
    return PayerSubscription(
        row.id, row.endpoint, row.connector, row.remote_id, row.secret_hash, row.status
    )


async def ensure_subscriptions(runtime: Runtime) -> int:
    """Subscribe at every payer endpoint that has no subscription yet; returns how many are
    still missing (a payer that could not be reached is tried again later)."""
    follow_up = runtime.settings.payer_follow_up
    if follow_up.callback_base_url is None:
        return 0
    endpoints: dict[str, str] = {}
    for name, endpoint in payer_endpoints(runtime.settings).items():
        endpoints.setdefault(endpoint, name)
    missing = 0
    for endpoint, name in endpoints.items():
        if not await _subscribe(runtime, endpoint, name, follow_up.callback_base_url):
            missing += 1
    return missing


async def _subscribe(runtime: Runtime, endpoint: str, name: str, callback_base: str) -> bool:
    table = fhir_payer_subscriptions
    async with runtime.store.connect() as conn:
        status = (
            await conn.execute(sa.select(table.c.status).where(table.c.endpoint == endpoint))
        ).scalar()
    if status == "active":
        return True
    now = datetime.now(UTC)
    subscription_id, secret = new_id(), secrets.token_urlsafe(32)
    try:
        async with runtime.store.begin() as conn:
            # A 'requested' row left by a failed attempt is replaced by this one.
            await conn.execute(
                sa.delete(table).where(table.c.endpoint == endpoint, table.c.status == "requested")
            )
            await conn.execute(
                sa.insert(table).values(
                    id=subscription_id,
                    endpoint=endpoint,
                    connector=name,
                    remote_id=None,
                    secret_hash=secret_digest(secret),
                    status="requested",
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        return True  # another gateway process subscribed this endpoint meanwhile
    callback = f"{callback_base.rstrip('/')}{NOTIFICATION_PATH}/{subscription_id}"
    try:
        connector = await runtime.connectors.get(name)
        if not isinstance(connector, FhirPasConnector):
            raise TypeError(f"connector {name} is not a fhir_pas connector")
        remote_id = await connector.subscribe(
            subscription_resource(callback, {SECRET_HEADER: secret})
        )
    except ConnectorError as exc:
        _log.warning("payer_subscription_failed", connector=name, reason=exc.reason)
        async with runtime.store.begin() as conn:
            await conn.execute(sa.delete(table).where(table.c.id == subscription_id))
        return False
    async with runtime.store.begin() as conn:
        await conn.execute(
            sa.update(table)
            .where(table.c.id == subscription_id)
            .values(remote_id=remote_id, status="active", updated_at=datetime.now(UTC))
        )
    _log.info("payer_subscription_active", connector=name, subscription_id=subscription_id)
    return True


def export_signing_key(home: Path) -> tuple[Path, str]:
    """The gateway's signing key as a PEM file (owner-only) and its `kid`, for a fhir_pas
    connector's `auth.private_key` (`file:<path>`) and `auth.key_id`."""
    key = load_or_create_issuer_key(home)
    path = home / "keys" / SIGNING_KEY_FILE
    pem = key.private_key.as_pem(private=True)
    if not path.exists() or path.read_bytes() != pem:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    return path, key.kid
