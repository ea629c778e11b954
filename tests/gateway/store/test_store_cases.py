"""Cases, events and raw messages on both backends."""

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError

from gateway.store.cases import (
    UnknownCaseError,
    add_cases,
    add_message,
    append_event,
    get_case,
    get_message,
    list_cases,
    list_events,
    list_messages,
    mark_message_replayed,
    update_case,
)
from gateway.store.cipher import DecryptionError
from gateway.store.engine import Store
from gateway.store.ids import new_id
from gateway.store.records import NewEvent, NewMessage
from gateway.store.schema import cases, messages

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _event(case_id: str, to_status: str, from_status: str | None = None) -> NewEvent:
    return NewEvent(
        case_id=case_id,
        type="case.status",
        from_status=from_status,
        to_status=to_status,
        data={"by": "worker"},
        occurred_at=T0,
    )


def _message(case_id: str | None, body: bytes, error: str | None = None) -> NewMessage:
    return NewMessage(
        id=new_id(),
        tenant="clinic-a",
        case_id=case_id,
        direction="inbound",
        format="canonical-json",
        body=body,
        error=error,
        created_at=T0,
    )


async def test_get_case_respects_the_tenant(store: Store, make_case) -> None:
    case = make_case(tenant="clinic-a")
    async with store.begin() as conn:
        await add_cases(conn, [case])
    async with store.connect() as conn:
        mine = await get_case(conn, case.id, "clinic-a")
        assert await get_case(conn, case.id, "clinic-b") is None
        assert await get_case(conn, case.id, None) == mine
        assert await get_case(conn, "no-such-case", None) is None
    assert mine is not None
    assert (mine.version, mine.status, mine.payload) == (1, "received", case.payload)
    assert mine.created_at == T0 and mine.created_at.tzinfo is not None
    assert mine.decision is None and mine.decided_at is None and mine.route is None


async def test_list_cases_pages_by_id_with_filters(store: Store, make_case) -> None:
    made = [
        make_case(status="received" if i % 2 else "pended", payer_id=f"payer-{i % 3}")
        for i in range(9)
    ]
    async with store.begin() as conn:
        await add_cases(conn, [*made, make_case(tenant="clinic-b")])
    ids = [c.id for c in made]
    assert ids == sorted(ids)  # ULIDs: creation order
    async with store.connect() as conn:
        pages, after = [], None
        while page := await list_cases(conn, "clinic-a", after_id=after, limit=4):
            pages.append([c.id for c in page])
            after = page[-1].id
        assert pages == [ids[:4], ids[4:8], ids[8:]]
        pended = await list_cases(conn, "clinic-a", status="pended", limit=100)
        assert [c.id for c in pended] == [c.id for c in made if c.status == "pended"]
        payer = await list_cases(conn, "clinic-a", payer_id="payer-1", type="prior_auth", limit=9)
        assert [c.id for c in payer] == [c.id for c in made if c.payer_id == "payer-1"]
        assert await list_cases(conn, "clinic-a", type="claim", limit=9) == []


async def test_update_case_refuses_a_stale_version(store: Store, make_case) -> None:
    case = make_case()
    async with store.begin() as conn:
        await add_cases(conn, [case])
    async with store.begin() as conn:
        assert await update_case(
            conn,
            case.id,
            1,
            status="decided",
            decision={"outcome": "A1"},
            route="payer_rest",
            decided=True,
        )
        assert not await update_case(conn, case.id, 1, status="cancelled")
    async with store.connect() as conn:
        row = await get_case(conn, case.id, None)
    assert row is not None
    assert (row.version, row.status, row.route) == (2, "decided", "payer_rest")
    assert row.decision == {"outcome": "A1"}
    assert row.payload == case.payload
    assert row.decided_at is not None and row.decided_at == row.updated_at > row.created_at


async def test_concurrent_updates_of_one_version_let_exactly_one_win(
    store: Store, make_case
) -> None:
    case = make_case()
    async with store.begin() as conn:
        await add_cases(conn, [case])

    async def attempt(status: str) -> bool:
        async with store.begin() as conn:
            return await update_case(conn, case.id, 1, status=status)

    results = await asyncio.gather(*(attempt(f"s{i}") for i in range(5)))
    assert sorted(results) == [False, False, False, False, True]


async def test_events_are_numbered_per_case(store: Store, make_case) -> None:
    first, second = make_case(), make_case()
    async with store.begin() as conn:
        await add_cases(conn, [first, second])
        await append_event(conn, _event(first.id, "received"))
        await append_event(conn, _event(second.id, "received"))
        await append_event(conn, _event(first.id, "decided", "received"))
    async with store.connect() as conn:
        events = await list_events(conn, first.id)
    assert [(e.seq, e.from_status, e.to_status) for e in events] == [
        (1, None, "received"),
        (2, "received", "decided"),
    ]
    assert events[0].data == {"by": "worker"} and events[0].occurred_at == T0


async def test_concurrent_event_appends_to_one_case_all_land(store: Store, make_case) -> None:
    case = make_case()
    async with store.begin() as conn:
        await add_cases(conn, [case])

    async def add(i: int) -> None:
        async with store.begin() as conn:
            await append_event(conn, _event(case.id, f"s{i}"))

    await asyncio.gather(*(add(i) for i in range(6)))
    async with store.connect() as conn:
        assert [e.seq for e in await list_events(conn, case.id)] == [1, 2, 3, 4, 5, 6]


async def test_an_event_for_an_unknown_case_is_refused(store: Store) -> None:
    with pytest.raises(UnknownCaseError, match="1 case"):
        async with store.begin() as conn:
            await append_event(conn, _event("01NOSUCHCASE", "received"))


async def test_message_bodies_are_encrypted_at_rest(store: Store) -> None:
    body = b'{"member_id":"M123456789","name":"Jane Roe"}'
    message = _message(None, body, error="$.member.birth_date: not a date")
    async with store.begin() as conn:
        await add_message(conn, store.cipher, message)
    async with store.connect() as conn:
        raw = (await conn.execute(sa.select(messages.c.body, messages.c.content_sha256))).one()
        got = await get_message(conn, store.cipher, message.id)
    assert b"M123456789" not in raw.body and b"Jane" not in raw.body
    assert got is not None
    assert got.body == body and got.error == message.error and got.replayed_at is None
    assert got.content_sha256 == raw.content_sha256
    assert len(raw.content_sha256) == 64


async def test_a_body_moved_to_another_message_does_not_decrypt(store: Store) -> None:
    first, second = _message(None, b"first body"), _message(None, b"second body")
    async with store.begin() as conn:
        await add_message(conn, store.cipher, first)
        await add_message(conn, store.cipher, second)
        stolen = (
            await conn.execute(sa.select(messages.c.body).where(messages.c.id == first.id))
        ).scalar_one()
        await conn.execute(
            sa.update(messages).where(messages.c.id == second.id).values(body=stolen)
        )
    async with store.connect() as conn:
        with pytest.raises(DecryptionError, match="failed authentication"):
            await get_message(conn, store.cipher, second.id)


async def test_list_messages_newest_first_and_errors_only(store: Store) -> None:
    kept = [_message(None, f"m{i}".encode(), error="bad" if i % 2 else None) for i in range(4)]
    async with store.begin() as conn:
        for message in kept:
            await add_message(conn, store.cipher, message)
        assert await mark_message_replayed(conn, kept[1].id, T0 + timedelta(hours=1))
        assert not await mark_message_replayed(conn, "no-such-message", T0)
    async with store.connect() as conn:
        everything = await list_messages(conn, store.cipher, errors_only=False, limit=3)
        failed = await list_messages(conn, store.cipher, errors_only=True, limit=10)
    assert [m.body for m in everything] == [b"m3", b"m2", b"m1"]
    assert [m.id for m in failed] == [kept[3].id, kept[1].id]
    assert failed[1].replayed_at == T0 + timedelta(hours=1)


async def test_timestamps_are_utc_and_compare_across_offsets(store: Store, make_case) -> None:
    east = timezone(timedelta(hours=5))
    early = make_case(created_at=datetime(2025, 3, 1, 16, 0, tzinfo=east))  # 11:00 UTC
    late = make_case(created_at=datetime(2025, 3, 1, 11, 30, tzinfo=UTC))
    async with store.begin() as conn:
        await add_cases(conn, [late, early])
    async with store.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(cases.c.id, cases.c.created_at).order_by(cases.c.created_at)
            )
        ).all()
        newer = await conn.execute(
            sa.select(cases.c.id).where(
                cases.c.created_at > datetime(2025, 3, 1, 11, 15, tzinfo=UTC)
            )
        )
        assert newer.scalars().all() == [late.id]
    assert [r.id for r in rows] == [early.id, late.id]
    assert rows[0].created_at == datetime(2025, 3, 1, 11, 0, tzinfo=UTC)
    assert rows[0].created_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(store: Store, make_case) -> None:
    with pytest.raises((StatementError, ValueError), match="naive datetime"):
        async with store.begin() as conn:
            await add_cases(conn, [make_case(created_at=datetime(2025, 3, 1, 12, 0))])
