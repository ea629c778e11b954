"""What the store keeps about HL7 cases: which EHR opened them, the placer order numbers that lead
to them, the patient they concern (hashed) and the ACKs already given per MSH-10."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from canonical.status import OPEN_STATUSES
from gateway.store.intake import ExtraRow
from gateway.store.schema import cases, hl7_cases, hl7_order_refs, idempotency_keys


@dataclass(frozen=True, slots=True)
class Hl7Origin:
    """Where a case came from: the EHR to tell of its decision, and the orders it answers."""

    case_id: str
    sender: str
    notify: str | None
    placer_order_numbers: tuple[str, ...]


def origin_rows(
    case_id: str,
    *,
    sender: str,
    patient: str | None,
    notify: str | None,
    placer_order_numbers: Sequence[str],
    at: datetime,
) -> tuple[ExtraRow, ...]:
    origin = ExtraRow(
        hl7_cases,
        {
            "case_id": case_id,
            "sender": sender,
            "patient": patient,
            "notify": notify,
            "placer_order_numbers": list(placer_order_numbers),
            "created_at": at,
        },
    )
    refs = [
        ExtraRow(hl7_order_refs, {"sender": sender, "placer_order": number, "case_id": case_id})
        for number in dict.fromkeys(placer_order_numbers)
    ]
    return (origin, *refs)


async def stored_ack(conn: AsyncConnection, client_id: str, control_id: str) -> bytes | None:
    """The ACK already given for this sender's MSH-10, if it was given."""
    query = sa.select(idempotency_keys.c.response_body).where(
        idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == control_id
    )
    body = (await conn.execute(query)).scalar_one_or_none()
    return None if body is None else bytes(body)


async def claimed_case(conn: AsyncConnection, client_id: str, key: str) -> str | None:
    query = sa.select(idempotency_keys.c.case_id).where(
        idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key
    )
    case_id: str | None = (await conn.execute(query)).scalar_one_or_none()
    return case_id


async def cases_for_orders(
    conn: AsyncConnection, sender: str, placer_order_numbers: Sequence[str]
) -> list[str]:
    """Cases opened by any of these orders of this sender, oldest first."""
    if not placer_order_numbers:
        return []
    query = (
        sa.select(hl7_order_refs.c.case_id)
        .where(
            hl7_order_refs.c.sender == sender,
            hl7_order_refs.c.placer_order.in_(list(placer_order_numbers)),
        )
        .distinct()
        .order_by(hl7_order_refs.c.case_id)
    )
    return list((await conn.execute(query)).scalars())


async def open_cases_of_patient(conn: AsyncConnection, sender: str, patient: str) -> list[str]:
    """The patient's open cases from this sender, oldest first."""
    query = (
        sa.select(hl7_cases.c.case_id)
        .join(cases, cases.c.id == hl7_cases.c.case_id)
        .where(
            hl7_cases.c.sender == sender,
            hl7_cases.c.patient == patient,
            cases.c.status.in_([s.value for s in OPEN_STATUSES]),
        )
        .order_by(hl7_cases.c.case_id)
    )
    return list((await conn.execute(query)).scalars())


async def origin_of(conn: AsyncConnection, case_id: str) -> Hl7Origin | None:
    row = (
        await conn.execute(sa.select(hl7_cases).where(hl7_cases.c.case_id == case_id))
    ).one_or_none()
    if row is None:
        return None
    return Hl7Origin(
        case_id=row.case_id,
        sender=row.sender,
        notify=row.notify,
        placer_order_numbers=tuple(row.placer_order_numbers),
    )
