"""Migrations, durability settings and transaction behaviour of both backends."""

import asyncio

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from gateway.store.engine import Store, StoreURLError, open_store, parse_store_url
from gateway.store.migrate import alembic_config, upgrade
from gateway.store.schema import audit_head, cases, metadata

TABLES = {
    "cases",
    "case_policies",
    "work_items",
    "case_events",
    "messages",
    "outbox_jobs",
    "idempotency_keys",
    "audit_log",
    "audit_head",
    "fhir_facade_claims",
    "fhir_ehr_subscriptions",
    "fhir_payer_subscriptions",
    "fhir_payer_notifications",
    "x12_control_numbers",
    "x12_inbound_interchanges",
    "hl7_cases",
    "hl7_order_refs",
    "event_subscriptions",
    "event_deliveries",
}


async def _tables(store: Store) -> set[str]:
    async with store.connect() as conn:
        return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))


async def test_upgrade_twice_creates_every_table_once(store_url: str) -> None:
    await asyncio.to_thread(upgrade, store_url)
    await asyncio.to_thread(upgrade, store_url)
    store = await open_store(store_url, bytes(32))
    try:
        assert TABLES | {"alembic_version"} == await _tables(store)
        async with store.connect() as conn:
            version = await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            head = ScriptDirectory.from_config(alembic_config(store_url)).get_current_head()
            assert version.scalars().all() == [head]
            chain = (await conn.execute(sa.select(audit_head))).all()
            assert [tuple(row) for row in chain] == [(1, 0, "0" * 64)]
    finally:
        await store.close()


async def test_upgrade_from_async_code_without_a_thread(store_url: str) -> None:
    upgrade(store_url)
    store = await open_store(store_url, bytes(32))
    try:
        assert await _tables(store) >= TABLES
    finally:
        await store.close()


async def test_migration_matches_the_table_definitions(store: Store) -> None:
    async with store.connect() as conn:
        diffs = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), metadata
            )
        )
    assert diffs == []


async def test_downgrade_then_upgrade_again(store_url: str) -> None:
    config = alembic_config(store_url)
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.downgrade, config, "base")
    store = await open_store(store_url, bytes(32))
    try:
        assert await _tables(store) == {"alembic_version"}
        await asyncio.to_thread(command.upgrade, config, "head")
        assert await _tables(store) >= TABLES
    finally:
        await store.close()


async def test_durability_settings_are_in_force(store: Store) -> None:
    async with store.connect() as conn:
        if store.dialect == "sqlite":
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == 2  # FULL
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() >= 1000
        else:
            setting = await conn.exec_driver_sql("SHOW synchronous_commit")
            assert setting.scalar() == "on"


async def test_read_then_write_transactions_do_not_fail_on_a_busy_snapshot(
    store: Store, make_case
) -> None:
    """Without BEGIN IMMEDIATE, SQLite fails the second writer at once (SQLITE_BUSY)."""
    async with store.begin() as conn:
        await conn.execute(sa.insert(cases), [_case_row(make_case())])

    async def read_then_write(status: str) -> None:
        async with store.begin() as conn:
            await conn.execute(sa.select(sa.func.count()).select_from(cases))
            await asyncio.sleep(0.05)
            await conn.execute(sa.update(cases).values(status=status))

    await asyncio.gather(read_then_write("a"), read_then_write("b"), read_then_write("c"))
    async with store.connect() as conn:
        statuses = (await conn.execute(sa.select(cases.c.status))).scalars().all()
    assert statuses[0] in {"a", "b", "c"}


def _case_row(case) -> dict:
    return {
        "id": case.id,
        "tenant": case.tenant,
        "type": case.type,
        "status": case.status,
        "version": 1,
        "payer_id": case.payer_id,
        "urgency": case.urgency,
        "payload": case.payload,
        "created_at": case.created_at,
        "updated_at": case.created_at,
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql+aiomysql://admin:s3cret-pw@db/x", "unsupported database driver"),
        ("postgresql://admin:s3cret-pw@db/x", "unsupported database driver"),
        ("sqlite+aiosqlite://", "in-memory"),
        ("sqlite+aiosqlite:///:memory:", "in-memory"),
        ("postgresql+asyncpg://admin:s3cret-pw@db/x?schema=a;drop", "one unquoted identifier"),
        ("::not a url s3cret-pw", "could not be parsed"),
    ],
)
def test_bad_urls_are_refused_without_repeating_them(url: str, expected: str) -> None:
    with pytest.raises(StoreURLError, match=expected) as caught:
        parse_store_url(url)
    assert "s3cret-pw" not in str(caught.value)
