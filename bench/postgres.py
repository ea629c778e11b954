"""A throwaway schema on the PostgreSQL server for one benchmark run.

The gateway creates the schema named in its URL (`?schema=`) when it migrates; the benchmark
only has to pick a fresh name, so reruns and parallel test runs never meet, and drop it after.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_SECONDS = 3.0


def _driver_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def unreachable_reason(url: str) -> str | None:
    """None when the server answers; otherwise why not, in words safe to print."""
    try:
        connection = await asyncpg.connect(_driver_dsn(url), timeout=CONNECT_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return type(exc).__name__
    await connection.close()
    return None


@asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[str]:
    """The gateway's URL for a new schema `bench_<random>`, dropped with its tables on exit."""
    schema = f"bench_{secrets.token_hex(6)}"
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}schema={schema}"
    finally:
        connection = await asyncpg.connect(_driver_dsn(url), timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await connection.close()
