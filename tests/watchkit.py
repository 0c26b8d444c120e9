"""Shared pieces for watch tests: a database per backend (SQLite file, PostgreSQL server) and a
blocklist server whose zones a test changes while the scheduler runs."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dnsbl.catalog import Catalog
from bot.dnsbl.demozones import zones_for
from bot.dnsbl.localserver import Entry, LocalBlocklistServer
from bot.watch.db import database_url, make_engine
from bot.watch.schema import metadata

PG_ENV = "BLCHECK_TEST_DATABASE_URL"


def backends() -> list[object]:
    """SQLite always; PostgreSQL when .ci/run (or the developer) gives its URL."""
    pg = os.environ.get(PG_ENV)
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
        not pg, reason=f"{PG_ENV} is not set: PostgreSQL storage tests skipped"))]


async def fresh_database(backend: str, tmp: Path) -> tuple[str, AsyncEngine]:
    """An empty database: a new SQLite file, or the PostgreSQL test database with our tables dropped."""
    if backend == "sqlite":
        url = database_url({"BLCHECK_DATABASE_URL": f"sqlite:///{tmp / 'watch.db'}"})
    else:
        url = database_url({"BLCHECK_DATABASE_URL": os.environ[PG_ENV]})
    engine = make_engine(url)
    if backend == "postgresql":
        async with engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS schema_version"))
    return url, engine


class Zones:
    """The full catalog's zones on rbldnsd, with listings a test sets and changes."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.listings: dict[str, list[Entry]] = {}
        self.server = LocalBlocklistServer(zones_for(catalog, {})).start()

    def set(self, listings: Mapping[str, list[Entry]], broken: Mapping[str, str] | None = None) -> None:
        """New listings; `broken` makes lists misbehave ({"barracuda": "world"} or "dead")."""
        self.listings = {k: list(v) for k, v in listings.items()}
        self.server.replace_all(zones_for(self.catalog, self.listings, broken=dict(broken or {})))
        time.sleep(1.5)  # rbldnsd looks for changed files once a second

    def stop(self) -> None:
        self.server.stop()
