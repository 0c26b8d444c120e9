"""The database: SQLAlchemy's async engine on SQLite (the embedded default) or PostgreSQL, and
forward-only migrations that upgrade an existing database without loss."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.channels import data_dir
from bot.errors import ConfigError
from bot.watch import schema

Step = Callable[[AsyncConnection], Awaitable[None]]


async def _v1(conn: AsyncConnection) -> None:
    await conn.run_sync(schema.metadata.create_all, tables=schema.V1_TABLES)


async def _v2(conn: AsyncConnection) -> None:
    await conn.run_sync(schema.list_health.create)


async def _v3(conn: AsyncConnection) -> None:
    def columns(sync: Connection) -> set[str]:
        return {c["name"] for c in inspect(sync).get_columns("watches")}

    if "checks" not in await conn.run_sync(columns):  # a v1 table created before the column existed
        await conn.execute(text("ALTER TABLE watches ADD COLUMN checks INTEGER NOT NULL DEFAULT 0"))
    await conn.run_sync(schema.metadata.create_all, tables=[schema.watch_slices, schema.query_budget])


# Each migration runs once, in order, in the same transaction as the version bump.
# Append; never edit an old one (a database out there is at every version).
MIGRATIONS: list[tuple[int, Step]] = [(1, _v1), (2, _v2), (3, _v3)]
LATEST = MIGRATIONS[-1][0]


def database_url(env: Mapping[str, str] | None = None) -> str:
    """BLCHECK_DATABASE_URL (postgresql://… or sqlite:///…), else SQLite under the data dir."""
    env = os.environ if env is None else env
    url = env.get("BLCHECK_DATABASE_URL", "").strip()
    if not url:
        path = data_dir(dict(env)) / "blcheck.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{path}"
    for plain, driver in (("postgresql://", "postgresql+asyncpg://"), ("postgres://", "postgresql+asyncpg://"),
                          ("sqlite:///", "sqlite+aiosqlite:///")):
        if url.startswith(plain):
            return driver + url[len(plain):]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite:///")):
        return url
    raise ConfigError("BLCHECK_DATABASE_URL must be postgresql://… or sqlite:///…")


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: object, _: object) -> None:
            cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


async def current_version(conn: AsyncConnection) -> int:
    def has_table(sync: Connection) -> bool:
        return inspect(sync).has_table("schema_version")

    if not await conn.run_sync(has_table):
        return 0
    value = (await conn.execute(select(schema.schema_version.c.version))).scalar()
    return int(value or 0)


async def migrate(engine: AsyncEngine) -> int:
    """Bring the database to LATEST; safe to run from several processes at once."""
    async with engine.begin() as conn:
        if is_postgres(engine):
            await conn.execute(text("SELECT pg_advisory_xact_lock(7305823)"))  # one migrator at a time
        version = await current_version(conn)
        for number, step in MIGRATIONS:
            if number > version:
                await step(conn)
                if version == 0 and number == 1:
                    await conn.execute(insert(schema.schema_version).values(version=1))
                else:
                    await conn.execute(schema.schema_version.update().values(version=number))
                version = number
    return version
