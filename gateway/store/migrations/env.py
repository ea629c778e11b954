"""Alembic environment: runs migrations online over the store's own engine.

Using the store's engine means the migration connection gets the same settings as the
application (WAL and synchronous=FULL on SQLite, synchronous_commit on PostgreSQL).
"""

import asyncio
import zlib

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

from gateway.store.engine import StoreTarget, create_engine_for, for_writes, parse_store_url
from gateway.store.migrate import URL_ATTRIBUTE
from gateway.store.schema import metadata


def _run_migrations(connection: Connection, target: StoreTarget) -> None:
    if target.dialect == "postgresql":
        # Serialize concurrent starts against the same schema.
        lock_key = zlib.crc32(f"casegate.migrate.{target.schema or ''}".encode())
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
        if target.schema is not None:
            connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{target.schema}"')
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _migrate(target: StoreTarget) -> None:
    engine = create_engine_for(target)
    try:
        async with for_writes(engine).begin() as conn:
            await conn.run_sync(_run_migrations, target)
    finally:
        await engine.dispose()


def _main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("casegate migrations run online only, against a live database")
    url = context.config.attributes.get(URL_ATTRIBUTE)
    if not isinstance(url, str):
        raise RuntimeError("use gateway.store.migrate (alembic_config or upgrade) to migrate")
    asyncio.run(_migrate(parse_store_url(url)))


_main()
