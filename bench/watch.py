"""How long one watched /16 takes against the whole catalog, on one process and on three: the
real scheduler (slices claimed across processes), store and engine, against rbldnsd on loopback.

    .venv/bin/python bench/watch.py [--prefix 16] [--processes 1,3] [--database URL]

The database is PostgreSQL when --database (or BLCHECK_TEST_DATABASE_URL, as CI sets it) names a
server, where a database of the benchmark's own is created and dropped; else a SQLite file. The
demo zones list one /24 of the range on Spamhaus XBL and one address on SpamCop, so the run also
records listings and queues the baseline. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import make_url, text

from bot.dnsbl.catalog import load_catalog
from bot.dnsbl.checker import Checker
from bot.dnsbl.demozones import start_demo_server
from bot.dnsbl.transport import Nameserver
from bot.i18n import messages
from bot.render.alerts import AlertRenderer
from bot.watch.db import database_url, make_engine, migrate
from bot.watch.scheduler import Scheduler
from bot.watch.schema import metadata
from bot.watch.store import Store

TICKS = os.sysconf("SC_CLK_TCK")


async def worker(url: str, nameserver: str) -> None:
    """One bot process's watch loop, until the watch's run is recorded; figures as JSON."""
    catalog = load_catalog()
    engine = make_engine(url)
    store = Store(engine, f"bench:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    checker = Checker.for_nameservers(catalog, [Nameserver.parse(nameserver)], timeout=2.0)
    scheduler = Scheduler(store, checker, AlertRenderer(messages("en"), catalog), interval=1800,
                          lease_s=120)
    async with checker.client:
        while True:
            if not await scheduler.tick():
                (watch,) = await store.watches("T")
                if watch.checks:
                    break
                await asyncio.sleep(0.05)
    await engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
                      "queries": checker.client.sent, "slices": scheduler.slices}))


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def _reset(url: str, target: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS schema_version"))
    await migrate(engine)
    await Store(engine, "bench").add_watch("T", "C", target, "U", 1800, time.time())
    await engine.dispose()


async def _listed(url: str) -> tuple[dict[str, int], int, int]:
    engine = make_engine(url)
    store = Store(engine, "bench")
    (watch,) = await store.watches("T")
    found = await store.listings(watch.id)
    pending = await store.pending_count()
    await engine.dispose()
    by_list: dict[str, int] = {}
    for x in found:
        by_list[x.list_id] = by_list.get(x.list_id, 0) + 1
    return by_list, pending, watch.checks


async def one_run(url: str, nameserver: str, processes: int, target: str, rbldnsd_pid: int,
                  lists: int) -> None:
    await _reset(url, target)
    dns_cpu = _cpu_of(rbldnsd_pid)
    start = time.perf_counter()
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--worker", url, nameserver, stdout=asyncio.subprocess.PIPE)
        for _ in range(processes)]
    outputs = [await p.communicate() for p in procs]
    wall = time.perf_counter() - start
    dns_cpu = _cpu_of(rbldnsd_pid) - dns_cpu
    figures = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]
    addresses = 2 ** (32 - int(target.rsplit("/", 1)[1]))
    queries = sum(f["queries"] for f in figures)
    found, queued, checks = await _listed(url)
    print(f"{processes} process{'es' if processes > 1 else ''}: {addresses:,} addresses x {lists} lists "
          f"in {wall:6.1f} s wall ({wall / 1800:.0%} of a 30-minute interval) -> {addresses / wall:,.0f} "
          f"addresses/s, {queries / wall:,.0f} queries/s")
    each = ", ".join(f"{f['cpu']:.1f}" for f in figures)
    print(f"    bot CPU {sum(f['cpu'] for f in figures):.1f} s ({each} per process), "
          f"rbldnsd CPU {dns_cpu:.1f} s; "
          f"peak memory per process {max(f['rss_mb'] for f in figures):.0f} MB; "
          f"slices per process {[f['slices'] for f in figures]}")
    by_list = ", ".join(f"{n} on {lid}" for lid, n in sorted(found.items()))
    print(f"    run recorded {checks} time(s); {sum(found.values())} listings on record ({by_list}), "
          f"{queued} message(s) queued")


async def bench(prefix: int, counts: list[int], database: str | None) -> None:
    catalog = load_catalog()
    server = start_demo_server(catalog)
    target = f"11.22.0.0/{prefix}"
    admin = None
    name = f"blcheck_bench_{os.getpid()}"
    if database and database.startswith("postgres"):
        base = make_url(database_url({"BLCHECK_DATABASE_URL": database}))
        admin = make_engine(base.render_as_string(hide_password=False))
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
        where = "PostgreSQL"
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='blcheck-bench-')) / 'watch.db'}"
        where = "SQLite"
    print(f"watch of {target} against {len(catalog.for_kind('ip4'))} IPv4 lists on loopback rbldnsd, "
          f"{where}, {os.cpu_count()} CPUs")
    try:
        assert server._proc is not None
        for count in counts:
            await one_run(url, server.address, count, target, server._proc.pid, len(catalog.for_kind("ip4")))
    finally:
        server.stop()
        if admin is not None:
            async with admin.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await admin.dispose()


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        asyncio.run(worker(sys.argv[2], sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", type=int, default=16, help="size of the watched IPv4 range (16 = /16)")
    parser.add_argument("--processes", default="1,3", help="process counts, comma-separated")
    parser.add_argument("--database", default=os.environ.get("BLCHECK_TEST_DATABASE_URL"),
                        help="postgresql://… (default: BLCHECK_TEST_DATABASE_URL), else SQLite")
    args = parser.parse_args()
    if not 16 <= args.prefix <= 24:
        parser.error("--prefix must be between 16 and 24")
    asyncio.run(bench(args.prefix, [int(n) for n in args.processes.split(",")], args.database))


if __name__ == "__main__":
    main()
