"""Multi-row inserts straight through the database driver.

SQLAlchemy's executemany builds and type-processes every parameter of every row in Python; in
the intake writer that was most of the cost of a durable case (measured with cProfile: bind
processing, JSON and datetime conversion per row and column). The rows written here are plain
values the gateway built itself, so they go to the driver's own executemany after one cheap
conversion per column kind, giving the same stored representation as the SQLAlchemy types.

On SQLite the statement goes to aiosqlite directly, inside the transaction SQLAlchemy began on
the same connection: every call there is a hop to aiosqlite's thread and back, and SQLAlchemy's
adapter makes three or four per statement (open a cursor, execute, fetch, close) where the
driver's own executemany makes one. A group commit runs a dozen statements per batch, and each
hop waits for the thread to be scheduled. Driver errors are raised as SQLAlchemy's, as before.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.records import JsonText
from gateway.store.schema import UtcDateTime

Convert = Callable[[Any], Any]
RowValues = Callable[[Mapping[str, Any]], Sequence[Any]]
_SQLITE_DATETIME_CHARS = len("2000-01-01 00:00:00.000000")


def _same(value: Any) -> Any:
    return value


def _json(value: Any) -> Any:
    if value is None or isinstance(value, JsonText):
        return value
    return json.dumps(value)


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        raise ValueError("naive datetime given for a UTC column: pass a timezone-aware one")
    return value.astimezone(UTC)


def _sqlite_utc(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DATETIME stores: fixed width, so text order is time order
    (a UTC value's ISO form without its offset)."""
    utc = _utc(value)
    return None if utc is None else utc.isoformat(" ", "microseconds")[:_SQLITE_DATETIME_CHARS]


def _converter(column: sa.Column[Any], dialect: str) -> Convert:
    if isinstance(column.type, UtcDateTime):
        return _sqlite_utc if dialect == "sqlite" else _utc
    if isinstance(column.type, sa.JSON):
        return _json
    return _same


def _row_values(names: tuple[str, ...], converters: tuple[Convert, ...]) -> RowValues:
    """A row's parameters in column order: picked in one C call, then only the columns that
    need a conversion converted (a generator over every column was most of the cost)."""
    pick = itemgetter(*names)
    convert = tuple((i, c) for i, c in enumerate(converters) if c is not _same)
    single = len(names) == 1

    def values(row: Mapping[str, Any]) -> Sequence[Any]:
        picked = [pick(row)] if single else list(pick(row))
        for index, converter in convert:
            picked[index] = converter(picked[index])
        return picked

    return values


@lru_cache(maxsize=64)
def _prepared(
    table: sa.Table, names: tuple[str, ...], dialect: str, paramstyle: str
) -> tuple[str, RowValues]:
    if paramstyle == "qmark":
        marks = ", ".join("?" for _ in names)
    elif paramstyle == "numeric_dollar":
        marks = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    else:
        raise ValueError(f"no bulk insert for the {paramstyle} parameter style")
    converters = tuple(_converter(table.c[name], dialect) for name in names)  # unknown: KeyError
    columns = ", ".join(f'"{name}"' for name in names)
    # Only names of our own tables' columns reach this text; values travel as parameters.
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'  # noqa: S608
    return sql, _row_values(names, converters)


async def insert_rows(
    conn: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert rows that all name the same columns, in one driver-level executemany."""
    if not rows:
        return
    names = tuple(rows[0])
    dialect = conn.dialect
    sql, values = _prepared(table, names, dialect.name, dialect.paramstyle)
    params = [tuple(values(row)) for row in rows]
    if dialect.name != "sqlite":
        await conn.exec_driver_sql(sql, params)
        return
    sqlite = await _aiosqlite(conn)
    try:
        await sqlite.executemany(sql, params)
    except sqlite3.Error as exc:
        raise _as_sqlalchemy_error(sql, exc) from exc


async def insert_new_rows(
    conn: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]], key: tuple[str, ...]
) -> set[tuple[Any, ...]]:
    """Insert rows whose `key` columns are not stored yet; return the keys that were inserted.

    One multi-row `INSERT ... ON CONFLICT DO NOTHING RETURNING` (both backends support it), so
    a batch learns which of its rows won in a single round trip.
    """
    if not rows:
        return set()
    names = tuple(rows[0])
    dialect = conn.dialect
    _, values = _prepared(table, names, dialect.name, dialect.paramstyle)
    width = len(names)
    if dialect.paramstyle == "qmark":
        groups = ["(" + ", ".join("?" * width) + ")"] * len(rows)
    else:
        groups = [
            "(" + ", ".join(f"${n * width + i}" for i in range(1, width + 1)) + ")"
            for n in range(len(rows))
        ]
    columns = ", ".join(f'"{name}"' for name in names)
    conflict = ", ".join(f'"{name}"' for name in key)
    # As in `_prepared`: only our own tables' column names reach this text.
    sql = (
        f'INSERT INTO "{table.name}" ({columns}) VALUES {", ".join(groups)} '  # noqa: S608
        f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {conflict}"
    )
    params = tuple(chain.from_iterable(values(row) for row in rows))
    if dialect.name != "sqlite":
        result = await conn.exec_driver_sql(sql, params)
        return {tuple(row) for row in result.all()}
    return set(await sqlite_rows(conn, sql, params))


async def sqlite_rows(
    conn: AsyncConnection, sql: str, params: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """One statement of our own (qmark parameters) on a SQLite connection, in one hop to the
    driver's thread; the rows it returns, if any."""
    sqlite = await _aiosqlite(conn)
    try:
        rows = await sqlite.execute_fetchall(sql, params)
    except sqlite3.Error as exc:
        raise _as_sqlalchemy_error(sql, exc) from exc
    return [tuple(row) for row in rows]


async def _aiosqlite(conn: AsyncConnection) -> Any:
    """The aiosqlite connection under `conn`, in the transaction `conn` has begun."""
    raw = await conn.get_raw_connection()
    return raw.driver_connection


def _as_sqlalchemy_error(sql: str, error: sqlite3.Error) -> sa.exc.StatementError:
    """The error SQLAlchemy would have raised (IntegrityError for a constraint, and so on);
    the parameters are left out of it, since they may carry PHI."""
    return sa.exc.DBAPIError.instance(sql, None, error, sqlite3.Error)
