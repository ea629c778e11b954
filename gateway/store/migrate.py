"""Bringing a database to the current schema, on either backend, at every start.

The Alembic scripts live inside the package (gateway/store/migrations) so they ship in the
wheel; no alembic.ini is involved. Concurrent starts are safe: on SQLite the migration runs in a
BEGIN IMMEDIATE transaction, on PostgreSQL under a transaction-scoped advisory lock, so the
second process waits and then finds the schema already at head.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

from gateway.store.engine import parse_store_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Key under which env.py finds the database URL in Config.attributes.
URL_ATTRIBUTE = "casegate_store_url"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for this database, for `alembic.command` functions.

    The URL travels in `Config.attributes`, not in the ini options, so percent signs in a
    password need no escaping and the URL is never written anywhere.
    """
    parse_store_url(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes[URL_ATTRIBUTE] = url
    return config


def upgrade(url: str) -> None:
    """Apply every migration not yet applied; a no-op when the schema is current.

    Synchronous, for use before the event loop starts. Called from async code, it runs the
    migration on a helper thread and blocks until it is done; prefer
    `await asyncio.to_thread(upgrade, url)` there.
    """
    config = alembic_config(url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(config, "head")
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(command.upgrade, config, "head").result()
