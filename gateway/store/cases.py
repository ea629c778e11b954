"""Reading and changing cases, their event history and their raw messages.

Every function takes an open connection, so a caller composes several of them into one
transaction (for example update_case + append_event + outbox.enqueue).
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.bulk import insert_rows
from gateway.store.cipher import MessageCipher
from gateway.store.clock import utcnow
from gateway.store.records import CaseRow, EventRow, MessageRow, NewCase, NewEvent, NewMessage
from gateway.store.schema import case_events, cases, messages
from gateway.store.subscriptions import fan_out


class UnknownCaseError(LookupError):
    """An event or change names a case that is not stored."""


async def add_cases(conn: AsyncConnection, new_cases: Sequence[NewCase]) -> None:
    """Insert cases at version 1, in one multi-row statement."""
    if not new_cases:
        return
    await insert_rows(
        conn,
        cases,
        [
            {
                "id": c.id,
                "tenant": c.tenant,
                "type": c.type,
                "status": c.status,
                "version": 1,
                "payer_id": c.payer_id,
                "urgency": c.urgency,
                "route": None,
                "payload": c.payload,
                "decision": None,
                "created_at": c.created_at,
                "updated_at": c.created_at,
                "decided_at": None,
            }
            for c in new_cases
        ],
    )


async def get_case(conn: AsyncConnection, case_id: str, tenant: str | None) -> CaseRow | None:
    """The case, or None if absent or owned by another tenant (None tenant: any, for workers)."""
    query = sa.select(cases).where(cases.c.id == case_id)
    if tenant is not None:
        query = query.where(cases.c.tenant == tenant)
    row = (await conn.execute(query)).first()
    return None if row is None else CaseRow(**row._asdict())


async def get_cases(conn: AsyncConnection, case_ids: Sequence[str]) -> dict[str, CaseRow]:
    """Many cases in one query, by id, whatever their tenant (for workers loading a claim)."""
    if not case_ids:
        return {}
    rows = await conn.execute(sa.select(cases).where(cases.c.id.in_(sorted(set(case_ids)))))
    return {row.id: CaseRow(**row._asdict()) for row in rows}


async def list_cases(
    conn: AsyncConnection,
    tenant: str,
    *,
    type: str | None = None,
    status: str | None = None,
    payer_id: str | None = None,
    after_id: str | None = None,
    limit: int,
) -> list[CaseRow]:
    """One page of a tenant's cases in creation (id) order; pass the last id to get the next."""
    query = sa.select(cases).where(cases.c.tenant == tenant)
    if type is not None:
        query = query.where(cases.c.type == type)
    if status is not None:
        query = query.where(cases.c.status == status)
    if payer_id is not None:
        query = query.where(cases.c.payer_id == payer_id)
    if after_id is not None:
        query = query.where(cases.c.id > after_id)
    query = query.order_by(cases.c.id).limit(limit)
    return [CaseRow(**row._asdict()) for row in await conn.execute(query)]


async def update_case(
    conn: AsyncConnection,
    case_id: str,
    expected_version: int,
    *,
    status: str,
    decision: dict[str, Any] | None = None,
    route: str | None = None,
    payload: dict[str, Any] | None = None,
    decided: bool = False,
) -> bool:
    """Apply a change only if nobody changed the case since `expected_version` was read.

    False means another writer won: reload and decide again. None arguments leave a field as is.
    """
    now = utcnow()
    values: dict[str, Any] = {
        "status": status,
        "version": cases.c.version + 1,
        "updated_at": now,
    }
    if decision is not None:
        values["decision"] = decision
    if route is not None:
        values["route"] = route
    if payload is not None:
        values["payload"] = payload
    if decided:
        values["decided_at"] = now
    result = await conn.execute(
        sa.update(cases)
        .where(cases.c.id == case_id, cases.c.version == expected_version)
        .values(values)
    )
    return result.rowcount == 1


async def list_events(conn: AsyncConnection, case_id: str) -> list[EventRow]:
    query = sa.select(case_events).where(case_events.c.case_id == case_id)
    return [EventRow(**row._asdict()) for row in await conn.execute(query.order_by("seq"))]


async def append_events(conn: AsyncConnection, events: Sequence[NewEvent]) -> None:
    """Append events, numbering each case's events on from its last stored one, with the
    deliveries they owe their subscribers (gateway.store.subscriptions.fan_out).

    The cases' rows are locked first (PostgreSQL), so two transactions appending to one case
    take turns instead of both picking the same next number.
    """
    if not events:
        return
    case_ids = sorted({e.case_id for e in events})
    locked = await conn.execute(
        sa.select(cases.c.id).where(cases.c.id.in_(case_ids)).with_for_update()
    )
    missing = set(case_ids) - set(locked.scalars())
    if missing:
        raise UnknownCaseError(f"events name {len(missing)} case(s) not stored: {sorted(missing)}")
    last_seq: dict[str, int] = {
        row.case_id: row.last
        for row in await conn.execute(
            sa.select(case_events.c.case_id, sa.func.max(case_events.c.seq).label("last"))
            .where(case_events.c.case_id.in_(case_ids))
            .group_by(case_events.c.case_id)
        )
    }
    rows = []
    for event in events:
        seq = last_seq.get(event.case_id, 0) + 1
        last_seq[event.case_id] = seq
        rows.append(_event_row(event, seq))
    await insert_rows(conn, case_events, rows)
    await fan_out(conn, rows)


async def add_first_events(conn: AsyncConnection, events: Sequence[NewEvent]) -> None:
    """The opening event of each case created in this transaction: number 1, nothing to lock.

    Intake writes one per new case; skipping append_events' lock and numbering query saves
    two statements per batch on the gateway's busiest path.
    """
    rows = [_event_row(event, 1) for event in events]
    await insert_rows(conn, case_events, rows)
    await fan_out(conn, rows)


def _event_row(event: NewEvent, seq: int) -> dict[str, Any]:
    return {
        "case_id": event.case_id,
        "seq": seq,
        "type": event.type,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "data": event.data,
        "occurred_at": event.occurred_at,
    }


async def append_event(conn: AsyncConnection, event: NewEvent) -> None:
    await append_events(conn, [event])


async def add_messages(
    conn: AsyncConnection, cipher: MessageCipher, new_messages: Sequence[NewMessage]
) -> None:
    """Store raw messages encrypted, with the digest of the plaintext for de-duplication."""
    if not new_messages:
        return
    await insert_rows(
        conn,
        messages,
        [
            {
                "id": m.id,
                "tenant": m.tenant,
                "case_id": m.case_id,
                "direction": m.direction,
                "format": m.format,
                "content_sha256": hashlib.sha256(m.body).hexdigest(),
                "body": cipher.encrypt(m.body, m.id.encode()),
                "error": m.error,
                "created_at": m.created_at,
                "replayed_at": None,
            }
            for m in new_messages
        ],
    )


async def add_message(conn: AsyncConnection, cipher: MessageCipher, message: NewMessage) -> None:
    await add_messages(conn, cipher, [message])


def _message_row(cipher: MessageCipher, row: sa.Row[Any]) -> MessageRow:
    fields = row._asdict()
    fields["body"] = cipher.decrypt(fields["body"], fields["id"].encode())
    return MessageRow(**fields)


async def get_message(
    conn: AsyncConnection, cipher: MessageCipher, message_id: str
) -> MessageRow | None:
    row = (await conn.execute(sa.select(messages).where(messages.c.id == message_id))).first()
    return None if row is None else _message_row(cipher, row)


async def list_messages(
    conn: AsyncConnection, cipher: MessageCipher, *, errors_only: bool, limit: int
) -> list[MessageRow]:
    """The newest messages first; with errors_only, the ones kept because they failed."""
    query = sa.select(messages)
    if errors_only:
        query = query.where(messages.c.error.is_not(None))
    query = query.order_by(messages.c.id.desc()).limit(limit)
    return [_message_row(cipher, row) for row in await conn.execute(query)]


async def mark_message_replayed(conn: AsyncConnection, message_id: str, at: datetime) -> bool:
    """Record that a kept message was fed through intake again; False if no such message."""
    result = await conn.execute(
        sa.update(messages).where(messages.c.id == message_id).values(replayed_at=at)
    )
    return result.rowcount == 1
