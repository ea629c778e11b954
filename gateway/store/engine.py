"""Opening the store: one engine per process, configured for durability on either backend.

SQLite runs in WAL mode with synchronous=FULL, and SQLAlchemy (not the driver) emits BEGIN, so
that a write transaction can take the write lock up front with BEGIN IMMEDIATE: a transaction
that reads and then writes can then never fail half-way on a busy snapshot. PostgreSQL runs with
synchronous_commit=on. Either way, a commit that returns is on disk.
"""

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gateway.store.cipher import MessageCipher

Dialect = Literal["sqlite", "postgresql"]

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option marking a connection whose transactions will write.
_WRITE_OPTION = "casegate_write"
# A PostgreSQL URL may name the schema that holds the tables (created by upgrade if missing),
# so that several deployments or test runs can share one database: ?schema=name.
SCHEMA_PARAM = "schema"
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class StoreURLError(ValueError):
    """The database URL is not one the store can use. Messages never repeat the URL itself."""


@dataclass(frozen=True, slots=True)
class StoreTarget:
    """A validated database URL, split into what SQLAlchemy and the driver each need."""

    url: URL
    dialect: Dialect
    schema: str | None


def parse_store_url(raw: str) -> StoreTarget:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise StoreURLError("the database URL could not be parsed") from None
    if url.drivername == SQLITE_DRIVER:
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise StoreURLError(
                "an in-memory SQLite database is not durable: give a file path, "
                f"as in {SQLITE_DRIVER}:///var/casegate.db"
            )
        return StoreTarget(url=url, dialect="sqlite", schema=None)
    if url.drivername == POSTGRES_DRIVER:
        schema = url.query.get(SCHEMA_PARAM)
        if schema is not None and (
            not isinstance(schema, str) or not _SCHEMA_NAME.fullmatch(schema)
        ):
            raise StoreURLError(
                f"the {SCHEMA_PARAM} parameter must be one unquoted identifier "
                "(letters, digits, underscore; at most 63 characters)"
            )
        return StoreTarget(
            url=url.difference_update_query([SCHEMA_PARAM]),
            dialect="postgresql",
            schema=schema,
        )
    raise StoreURLError(
        f"unsupported database driver {url.drivername!r}: use "
        f"{SQLITE_DRIVER}:///path/to/file.db or {POSTGRES_DRIVER}://user@host/database"
    )


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand BEGIN over to SQLAlchemy (see _on_sqlite_begin), then make every connection durable.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    writes = bool(conn.get_execution_options().get(_WRITE_OPTION))
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN DEFERRED")


def create_engine_for(target: StoreTarget) -> AsyncEngine:
    """The engine with the backend's durability settings; the caller disposes of it."""
    if target.dialect == "sqlite":
        Path(str(target.url.database)).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(target.url)
        sa.event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        sa.event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
        return engine
    server_settings = {"synchronous_commit": "on", "application_name": "casegate"}
    if target.schema is not None:
        server_settings["search_path"] = target.schema
    return create_async_engine(
        target.url,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings},
    )


def for_writes(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, whose transactions take the SQLite write lock up front."""
    return engine.execution_options(**{_WRITE_OPTION: True})


class Store:
    """The engine, its dialect and the message cipher, with the two ways to open a connection."""

    def __init__(self, engine: AsyncEngine, dialect: Dialect, cipher: MessageCipher) -> None:
        self.engine = engine
        self.dialect: Dialect = dialect
        self.cipher = cipher
        self._write_engine = for_writes(engine)
        # SQLite has one writer; queueing writers here is far cheaper than letting them spin in
        # SQLite's busy handler, which sleeps in growing steps of up to 100 ms.
        self._write_lock = asyncio.Lock() if dialect == "sqlite" else None

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block exits cleanly.

        On SQLite it holds the database write lock from its first statement (BEGIN IMMEDIATE).
        """
        if self._write_lock is None:
            async with self._write_engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self._write_engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads; whatever it leaves uncommitted is rolled back."""
        async with self.engine.connect() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


async def open_store(url: str, data_key: bytes) -> Store:
    """Connect (failing now, not at the first request, if the database cannot be reached)."""
    target = parse_store_url(url)
    cipher = MessageCipher(data_key)
    engine = create_engine_for(target)
    store = Store(engine, target.dialect, cipher)
    try:
        await store.ping()
    except BaseException:
        await engine.dispose()
        raise
    return store
