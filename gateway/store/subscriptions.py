"""Event subscriptions and their deliveries: one outbox per subscriber.

A delivery row is written in the transaction that records its case event (`fan_out`, called by
the event writers in gateway.store.cases), so an event is either stored with every delivery it
owes or not at all. Deliveries are claimed per subscription, and only when no earlier event of
the same case is still owed to that subscription (pending, leased or dead): each subscriber
gets each case's events in order, and a slow or failing subscriber holds back nobody else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from canonical.cases import CaseType
from canonical.event_catalog import catalog_event, catalog_type
from canonical.events import DomainEvent
from canonical.status import CaseStatus
from gateway.store.bulk import insert_rows
from gateway.store.cipher import MessageCipher
from gateway.store.clock import utcnow
from gateway.store.schema import cases, event_deliveries, event_subscriptions

DeliveryStatus = Literal["pending", "leased", "delivered", "dead"]
# An earlier delivery in one of these states holds back the later events of its case.
_OWED = ("pending", "leased", "dead")
_CLAIMABLE = ("pending", "leased")


@dataclass(frozen=True, slots=True)
class NewSubscription:
    id: str
    tenant: str
    event_types: list[str]
    case_types: list[str] | None
    payers: list[str] | None
    target_kind: str
    target_url: str | None
    description: str | None
    secret: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    """A subscription without its secrets (see `delivery_subscription`)."""

    id: str
    tenant: str
    event_types: list[str]
    case_types: list[str] | None
    payers: list[str] | None
    target_kind: str
    target_url: str | None
    description: str | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    subscription_id: str
    case_id: str
    seq: int
    event_id: str
    event_type: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    available_at: datetime
    lease_owner: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliverySettlement:
    """What became of one attempt: delivered, pending again at `available_at`, or dead."""

    delivery_id: int
    owner: str
    status: Literal["delivered", "pending", "dead"]
    error: str | None
    available_at: datetime


_PUBLIC_COLUMNS = [c for c in event_subscriptions.c if c.name not in ("secret", "previous_secret")]


def _aad(subscription_id: str) -> bytes:
    return f"subscription:{subscription_id}".encode()


async def add_subscription(
    conn: AsyncConnection, cipher: MessageCipher, new: NewSubscription
) -> None:
    await conn.execute(
        sa.insert(event_subscriptions).values(
            id=new.id,
            tenant=new.tenant,
            event_types=new.event_types,
            case_types=new.case_types,
            payers=new.payers,
            target_kind=new.target_kind,
            target_url=new.target_url,
            description=new.description,
            secret=cipher.encrypt(new.secret.encode(), _aad(new.id)),
            previous_secret=None,
            previous_secret_expires_at=None,
            created_at=new.created_at,
            updated_at=new.created_at,
        )
    )


async def get_subscription(
    conn: AsyncConnection, subscription_id: str, tenant: str
) -> SubscriptionRow | None:
    """The subscription, or None if absent or another tenant's."""
    query = sa.select(*_PUBLIC_COLUMNS).where(
        event_subscriptions.c.id == subscription_id, event_subscriptions.c.tenant == tenant
    )
    row = (await conn.execute(query)).first()
    return None if row is None else SubscriptionRow(**row._asdict())


async def list_subscriptions(
    conn: AsyncConnection, tenant: str, *, after_id: str | None, limit: int
) -> list[SubscriptionRow]:
    query = sa.select(*_PUBLIC_COLUMNS).where(event_subscriptions.c.tenant == tenant)
    if after_id is not None:
        query = query.where(event_subscriptions.c.id > after_id)
    query = query.order_by(event_subscriptions.c.id).limit(limit)
    return [SubscriptionRow(**row._asdict()) for row in await conn.execute(query)]


async def subscription_ids(conn: AsyncConnection) -> list[str]:
    """Every subscription, whatever its tenant: the delivery worker runs one lane for each."""
    query = sa.select(event_subscriptions.c.id).order_by(event_subscriptions.c.id)
    return list((await conn.execute(query)).scalars())


async def delete_subscription(conn: AsyncConnection, subscription_id: str, tenant: str) -> bool:
    """Remove the subscription and whatever it was still owed."""
    mine = (event_subscriptions.c.id == subscription_id, event_subscriptions.c.tenant == tenant)
    owned = sa.select(event_subscriptions.c.id).where(*mine)
    await conn.execute(
        sa.delete(event_deliveries).where(event_deliveries.c.subscription_id.in_(owned))
    )
    result = await conn.execute(sa.delete(event_subscriptions).where(*mine))
    return result.rowcount == 1


async def rotate_secret(
    conn: AsyncConnection,
    cipher: MessageCipher,
    subscription_id: str,
    tenant: str,
    *,
    new_secret: str,
    previous_valid_until: datetime,
) -> bool:
    """Make `new_secret` current; the current one keeps signing until `previous_valid_until`.

    A secret older than the current one is dropped: at most two signatures go out at a time.
    """
    row = (
        await conn.execute(
            sa.select(event_subscriptions.c.secret).where(
                event_subscriptions.c.id == subscription_id,
                event_subscriptions.c.tenant == tenant,
            )
        )
    ).first()
    if row is None:
        return False
    await conn.execute(
        sa.update(event_subscriptions)
        .where(event_subscriptions.c.id == subscription_id)
        .values(
            secret=cipher.encrypt(new_secret.encode(), _aad(subscription_id)),
            previous_secret=row.secret,
            previous_secret_expires_at=previous_valid_until,
            updated_at=utcnow(),
        )
    )
    return True


async def delivery_subscription(
    conn: AsyncConnection, cipher: MessageCipher, subscription_id: str, now: datetime
) -> tuple[SubscriptionRow, list[str]] | None:
    """The subscription and the secrets to sign with now: the current one, then the previous
    one during its grace. One read serves a lane's whole claimed batch; None once deleted."""
    query = sa.select(event_subscriptions).where(event_subscriptions.c.id == subscription_id)
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    fields = row._asdict()
    current, previous = fields.pop("secret"), fields.pop("previous_secret")
    aad = _aad(subscription_id)
    secrets = [cipher.decrypt(current, aad).decode()]
    expires = fields["previous_secret_expires_at"]
    if previous is not None and expires is not None and expires > now:
        secrets.append(cipher.decrypt(previous, aad).decode())
    return SubscriptionRow(**fields), secrets


async def fan_out(conn: AsyncConnection, events: Sequence[Mapping[str, Any]]) -> None:
    """Write a delivery for every subscription that wants one of these just-stored events.

    `events` are case_events rows (case_id, seq, type, statuses, data, occurred_at). Costs one
    query per batch when nobody subscribes, which is what the busiest writers pay most often.
    """
    if not events:
        return
    subs = (
        await conn.execute(
            sa.select(
                event_subscriptions.c.id,
                event_subscriptions.c.tenant,
                event_subscriptions.c.event_types,
                event_subscriptions.c.case_types,
                event_subscriptions.c.payers,
            )
        )
    ).all()
    if not subs:
        return
    facts = await _case_facts(conn, events)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for event in events:
        case = facts.get(event["case_id"])
        if case is None:
            continue
        case_type = CaseType(case["type"])
        kind = catalog_type(event["type"], case_type)
        if kind is None:
            continue
        wanted = [
            sub.id
            for sub in subs
            if sub.tenant == case["tenant"]
            and kind.value in sub.event_types
            and (sub.case_types is None or case_type.value in sub.case_types)
            and (sub.payers is None or case["payer_id"] in sub.payers)
        ]
        if not wanted:
            continue
        published = catalog_event(
            _domain_event(event),
            sequence=event["seq"],
            case_type=case_type,
            payer_id=case["payer_id"],
            payload=case.get("payload"),
        )
        if published is None:
            continue
        document = published.model_dump(mode="json")
        rows.extend(
            {
                "subscription_id": sub_id,
                "case_id": event["case_id"],
                "seq": event["seq"],
                "event_id": published.id,
                "event_type": kind.value,
                "payload": document,
                "status": "pending",
                "attempts": 0,
                "available_at": now,
                "lease_owner": None,
                "last_error": None,
                "created_at": now,
                "updated_at": now,
                "delivered_at": None,
            }
            for sub_id in wanted
        )
    await insert_rows(conn, event_deliveries, rows)


async def _case_facts(
    conn: AsyncConnection, events: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Tenant, type and payer of the events' cases; the payload only where an opening needs it."""
    case_ids = sorted({e["case_id"] for e in events})
    opened = sorted({e["case_id"] for e in events if e["type"] == "case.created"})
    query = sa.select(cases.c.id, cases.c.tenant, cases.c.type, cases.c.payer_id)
    facts = {
        row.id: dict(row._asdict())
        for row in await conn.execute(query.where(cases.c.id.in_(case_ids)))
    }
    if opened:
        payloads = sa.select(cases.c.id, cases.c.payload).where(cases.c.id.in_(opened))
        for row in await conn.execute(payloads):
            facts[row.id]["payload"] = row.payload
    return facts


def _domain_event(row: Mapping[str, Any]) -> DomainEvent:
    return DomainEvent(
        type=row["type"],
        case_id=row["case_id"],
        from_status=CaseStatus(row["from_status"]) if row["from_status"] else None,
        to_status=CaseStatus(row["to_status"]),
        occurred_at=row["occurred_at"],
        data=row["data"],
    )


def _blocked(candidate: sa.Table) -> sa.Exists:
    earlier = event_deliveries.alias("earlier")
    return sa.exists().where(
        earlier.c.subscription_id == candidate.c.subscription_id,
        earlier.c.case_id == candidate.c.case_id,
        earlier.c.seq < candidate.c.seq,
        earlier.c.status.in_(_OWED),
    )


def _due(subscription_id: str, now: datetime) -> sa.Select[int]:
    """Ids of the subscription's deliveries that are due and next in their case."""
    d = event_deliveries
    return sa.select(d.c.id).where(
        d.c.subscription_id == subscription_id,
        d.c.status.in_(_CLAIMABLE),
        d.c.available_at <= now,
        ~_blocked(d),
    )


async def has_due(conn: AsyncConnection, subscription_id: str, now: datetime) -> bool:
    """A read-only look before claiming, so an idle lane (or one whose cases all wait behind a
    dead delivery) never takes the write lock."""
    return (await conn.execute(_due(subscription_id, now).limit(1))).first() is not None


async def claim_deliveries(
    conn: AsyncConnection, subscription_id: str, owner: str, limit: int, lease_seconds: float
) -> list[DeliveryRow]:
    """Lease up to `limit` due deliveries of one subscription, each the next its case owes.

    On PostgreSQL the candidates are locked with SKIP LOCKED, so workers sharing a lane split
    it; an earlier event leased by another worker still holds back its case's next one.
    """
    now = utcnow()
    expires = now + timedelta(seconds=lease_seconds)
    d = event_deliveries
    due = (
        _due(subscription_id, now)
        .order_by(d.c.available_at, d.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claim = (
        sa.update(d)
        .where(d.c.id.in_(due.scalar_subquery()))
        .values(
            status="leased",
            lease_owner=owner,
            available_at=expires,
            attempts=d.c.attempts + 1,
            updated_at=now,
        )
        .returning(*d.c)
    )
    rows = (await conn.execute(claim)).all()
    return sorted((DeliveryRow(**row._asdict()) for row in rows), key=lambda r: r.id)


async def settle_deliveries(
    conn: AsyncConnection, settlements: Sequence[DeliverySettlement]
) -> int:
    """Record attempts' outcomes, each only while its lease is still the settler's."""
    if not settlements:
        return 0
    d = event_deliveries
    now = utcnow()
    statement = (
        sa.update(d)
        .where(
            d.c.id == sa.bindparam("b_id"),
            d.c.status == "leased",
            d.c.lease_owner == sa.bindparam("b_owner"),
        )
        .values(
            status=sa.bindparam("b_status"),
            last_error=sa.bindparam("b_error"),
            available_at=sa.bindparam("b_available"),
            delivered_at=sa.bindparam("b_delivered"),
            lease_owner=None,
            updated_at=now,
        )
    )
    result = await conn.execute(
        statement,
        [
            {
                "b_id": s.delivery_id,
                "b_owner": s.owner,
                "b_status": s.status,
                "b_error": s.error,
                "b_available": s.available_at,
                "b_delivered": now if s.status == "delivered" else None,
            }
            for s in settlements
        ],
    )
    return result.rowcount


async def list_deliveries(
    conn: AsyncConnection,
    subscription_id: str,
    *,
    status: DeliveryStatus | None,
    after_id: int | None,
    limit: int,
) -> list[DeliveryRow]:
    query = sa.select(event_deliveries).where(event_deliveries.c.subscription_id == subscription_id)
    if status is not None:
        query = query.where(event_deliveries.c.status == status)
    if after_id is not None:
        query = query.where(event_deliveries.c.id > after_id)
    query = query.order_by(event_deliveries.c.id).limit(limit)
    return [DeliveryRow(**row._asdict()) for row in await conn.execute(query)]


async def replay_dead(conn: AsyncConnection, subscription_id: str) -> int:
    """Owe a subscription its dead deliveries again, due now; their cases' order is kept, since
    the later events they held back were never sent."""
    now = utcnow()
    result = await conn.execute(
        sa.update(event_deliveries)
        .where(
            event_deliveries.c.subscription_id == subscription_id,
            event_deliveries.c.status == "dead",
        )
        .values(status="pending", attempts=0, available_at=now, lease_owner=None, updated_at=now)
    )
    return result.rowcount
