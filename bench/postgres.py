"""A throwaway schema on the PostgreSQL server for one benchmark run.

The gateway creates the schema named in its URL (`?schema=`) when it migrates; the benchmark
only has to pick a fresh name, so reruns and parallel test runs never meet, and drop it after.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_SECONDS = 3.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(url: str) -> bool:
    try:
        host = make_url(url).host
    except ArgumentError:
        return False
    return host in LOOPBACK_HOSTS


async def _execute(url: str, statement: str) -> None:
    engine = create_async_engine(url, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS})
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def unreachable_reason(url: str) -> str | None:
    """None when the server answers; otherwise why not, in words safe to print."""
    try:
        await _execute(url, "SELECT 1")
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        cause = exc.__cause__ or exc
        return type(cause).__name__
    return None


@asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[str]:
    """The gateway's URL for a new schema `bench_<random>`, dropped with its tables on exit."""
    schema = f"bench_{secrets.token_hex(6)}"
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}schema={schema}"
    finally:
        await _execute(url, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
