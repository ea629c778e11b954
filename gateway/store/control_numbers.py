"""X12 control numbers per trading partner, and receipts of inbound interchanges.

A partner rejects an interchange whose ISA13 it has seen before from the same sender, so the
numbers must survive restarts and never be handed out twice, even to two gateway replicas
asking at the same instant. Each number comes from one upsert that increments the stored
counter and returns it: the row lock (PostgreSQL) or the single writer (SQLite) serializes
concurrent callers, and a rolled-back transaction gives its number back.

Every function takes an open connection so a caller can reserve numbers in the transaction
that records the message it sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.clock import utcnow
from gateway.store.schema import x12_control_numbers, x12_inbound_interchanges

MAX_CONTROL_NUMBER = 999_999_999  # nine digits: ISA13's width; GS06 and ST02 share the bound


class EnvelopeLevel(StrEnum):
    interchange = "interchange"  # ISA13 / IEA02
    group = "group"  # GS06 / GE02
    transaction = "transaction"  # ST02 / SE02


@dataclass(frozen=True, slots=True)
class EnvelopeNumbers:
    """The numbers for one outbound interchange holding one group."""

    interchange: int
    group: int
    transactions: tuple[int, ...]


def _insert(conn: AsyncConnection) -> sqlite.Insert | postgresql.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(x12_control_numbers)
    return sqlite.insert(x12_control_numbers)


async def next_control_number(
    conn: AsyncConnection, partner: str, level: EnvelopeLevel, *, now: datetime | None = None
) -> int:
    """The next number at `level` for `partner`: 1 the first time, wrapping after 999999999."""
    stamp = now or utcnow()
    table = x12_control_numbers
    insert = _insert(conn).values(
        partner=partner, level=level.value, last_number=1, updated_at=stamp
    )
    wrapped = sa.case((table.c.last_number >= MAX_CONTROL_NUMBER, 1), else_=table.c.last_number + 1)
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.partner, table.c.level],
        set_={"last_number": wrapped, "updated_at": stamp},
    ).returning(table.c.last_number)
    return int((await conn.execute(statement)).scalar_one())


async def next_envelope_numbers(
    conn: AsyncConnection, partner: str, *, transactions: int = 1, now: datetime | None = None
) -> EnvelopeNumbers:
    """ISA13, GS06 and one ST02 per transaction set, all reserved in the caller's transaction."""
    if transactions < 1:
        raise ValueError("an interchange carries at least one transaction set")
    interchange = await next_control_number(conn, partner, EnvelopeLevel.interchange, now=now)
    group = await next_control_number(conn, partner, EnvelopeLevel.group, now=now)
    numbers = [
        await next_control_number(conn, partner, EnvelopeLevel.transaction, now=now)
        for _ in range(transactions)
    ]
    return EnvelopeNumbers(interchange, group, tuple(numbers))


async def record_inbound_interchange(
    conn: AsyncConnection,
    *,
    sender_qualifier: str,
    sender_id: str,
    control_number: str,
    message_id: str | None = None,
    received_at: datetime | None = None,
) -> bool:
    """Note an inbound interchange; False when this sender's ISA13 was already recorded.

    The sender id is compared without its ISA padding, so the same partner is recognized
    however its software pads the field.
    """
    table = x12_inbound_interchanges
    values = {
        "sender_qualifier": sender_qualifier.strip(),
        "sender_id": sender_id.strip(),
        "control_number": control_number.strip(),
        "message_id": message_id,
        "received_at": received_at or utcnow(),
    }
    base = postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    statement = base.values(**values).on_conflict_do_nothing().returning(table.c.control_number)
    return (await conn.execute(statement)).first() is not None
