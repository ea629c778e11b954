"""Fixtures shared across the suite: a fresh database on each store backend, and a running
gateway on it.

Every test that takes `database_url` runs twice: on SQLite (the embedded default) and on the
PostgreSQL of this machine (scaled out). Without a reachable PostgreSQL the second variant is
skipped with a loud reason, never silently passed.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

PG_URL = os.environ.get(
    "CASEGATE_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def postgres_answers() -> bool:
    url = make_url(PG_URL)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    return postgres_answers()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_available: bool
) -> AsyncIterator[str]:
    """A fresh, not yet migrated database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'var' / 'casegate.db'}"
        return
    if not postgres_available:
        shown = make_url(PG_URL).render_as_string(hide_password=True)
        pytest.skip(f"PostgreSQL not reachable at {shown}: scaled-out store NOT tested")
    schema = f"casegate_test_{uuid.uuid4().hex[:12]}"
    yield (
        make_url(PG_URL).update_query_dict({"schema": schema}).render_as_string(hide_password=False)
    )
    admin = create_async_engine(PG_URL)
    try:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await admin.dispose()
