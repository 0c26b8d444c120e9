"""Shared pieces for watch tests: a database per backend (SQLite file, PostgreSQL server) and a
blocklist server whose zones a test changes while the scheduler runs."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
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


_PG_DATABASE: str | None = None  # this test run's own database on the PostgreSQL server


async def _pg_url() -> str:
    """A database of this run's own on the test server, so two runs (a developer's and CI's,
    say) never drop each other's tables. Dropped at the end of the session (conftest)."""
    global _PG_DATABASE
    base = make_url(database_url({"BLCHECK_DATABASE_URL": os.environ[PG_ENV]}))
    if _PG_DATABASE is None:
        name = f"blcheck_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = make_engine(base.render_as_string(hide_password=False))
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        _PG_DATABASE = name
    return base.set(database=_PG_DATABASE).render_as_string(hide_password=False)


async def drop_pg_database() -> None:
    if _PG_DATABASE is None:
        return
    base = make_url(database_url({"BLCHECK_DATABASE_URL": os.environ[PG_ENV]}))
    admin = make_engine(base.render_as_string(hide_password=False))
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{_PG_DATABASE}" WITH (FORCE)'))
    await admin.dispose()


async def fresh_database(backend: str, tmp: Path) -> tuple[str, AsyncEngine]:
    """An empty database: a new SQLite file, or this run's PostgreSQL database with our tables
    dropped."""
    if backend == "sqlite":
        url = database_url({"BLCHECK_DATABASE_URL": f"sqlite:///{tmp / 'watch.db'}"})
    else:
        url = await _pg_url()
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
        before = self.listings
        self.listings = {k: list(v) for k, v in listings.items()}
        self.server.replace_all(zones_for(self.catalog, self.listings, broken=dict(broken or {})))
        # rbldnsd looks for changed files once a second: wait until it answers the new data.
        for list_id, entries in self.listings.items():
            self._wait(list_id, entries[0].key, listed=True)
        for list_id, entries in before.items():
            if list_id not in self.listings:
                self._wait(list_id, entries[0].key, listed=False)
        for list_id in (broken or {}):
            self._wait(list_id, "127.0.0.1", listed=True)  # a world-listing list lists everything
        time.sleep(0.2)

    def _wait(self, list_id: str, target: str, listed: bool, timeout: float = 8.0) -> None:
        import ipaddress

        import dns.message
        import dns.query
        import dns.rcode

        from bot.dnsbl.names import query_text

        address = str(next(iter(ipaddress.ip_network(target, strict=False))))
        name = query_text("ip4", address, self.catalog.by_id(list_id).query_zone)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                answer = dns.query.udp(dns.message.make_query(name, "A"), self.server.host,
                                       port=self.server.port, timeout=0.3)
                if (answer.rcode() == dns.rcode.NOERROR and bool(answer.answer)) == listed:
                    return
            except Exception:
                pass
            time.sleep(0.1)
        raise AssertionError(f"rbldnsd did not pick up the change for {list_id} within {timeout} s")

    def stop(self) -> None:
        self.server.stop()
