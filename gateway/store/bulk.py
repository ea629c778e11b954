"""Multi-row inserts straight through the database driver.

SQLAlchemy's executemany builds and type-processes every parameter of every row in Python; in
the intake writer that was most of the cost of a durable case (measured with cProfile: bind
processing, JSON and datetime conversion per row and column). The rows written here are plain
values the gateway built itself, so they go to the driver's own executemany after one cheap
conversion per column kind, giving the same stored representation as the SQLAlchemy types.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.schema import UtcDateTime

Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _json(value: Any) -> Any:
    return None if value is None else json.dumps(value)


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        raise ValueError("naive datetime given for a UTC column: pass a timezone-aware one")
    return value.astimezone(UTC)


def _sqlite_utc(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DATETIME stores: fixed width, so text order is time order."""
    utc = _utc(value)
    return None if utc is None else utc.replace(tzinfo=None).isoformat(" ", "microseconds")


def _converter(column: sa.Column[Any], dialect: str) -> Convert:
    if isinstance(column.type, UtcDateTime):
        return _sqlite_utc if dialect == "sqlite" else _utc
    if isinstance(column.type, sa.JSON):
        return _json
    return _same


@lru_cache(maxsize=64)
def _prepared(
    table: sa.Table, names: tuple[str, ...], dialect: str, paramstyle: str
) -> tuple[str, tuple[Convert, ...]]:
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
    return sql, converters


async def insert_rows(
    conn: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert rows that all name the same columns, in one driver-level executemany."""
    if not rows:
        return
    names = tuple(rows[0])
    dialect = conn.dialect
    sql, converters = _prepared(table, names, dialect.name, dialect.paramstyle)
    params = [
        tuple(convert(row[name]) for name, convert in zip(names, converters, strict=True))
        for row in rows
    ]
    await conn.exec_driver_sql(sql, params)


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
    _, converters = _prepared(table, names, dialect.name, dialect.paramstyle)
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
    params = tuple(
        convert(row[name]) for row in rows for name, convert in zip(names, converters, strict=True)
    )
    result = await conn.exec_driver_sql(sql, params)
    return {tuple(row) for row in result.all()}
