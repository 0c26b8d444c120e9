"""How many watched addresses one process checks per 30-minute interval against the full
catalog: the real scheduler, store (SQLite file) and engine, against rbldnsd on loopback.

    .venv/bin/python bench/watch.py [--ranges 16]

Each watch is a /24 (256 addresses); one address range in the demo zones is listed, so the run
also records listings and queues alerts. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.dnsbl.catalog import load_catalog
from bot.dnsbl.checker import Checker
from bot.dnsbl.demozones import start_demo_server
from bot.dnsbl.transport import Nameserver
from bot.i18n import messages
from bot.render.alerts import AlertRenderer
from bot.watch.db import make_engine, migrate
from bot.watch.scheduler import Scheduler
from bot.watch.store import Store


async def bench(ranges: int) -> None:
    catalog = load_catalog()
    server = start_demo_server(catalog)
    tmp = Path(tempfile.mkdtemp(prefix="blcheck-bench-"))
    engine = make_engine(f"sqlite+aiosqlite:///{tmp / 'watch.db'}")
    try:
        await migrate(engine)
        store = Store(engine, "bench")
        now = time.time()
        targets = ["11.22.33.0/24"] + [f"12.{i // 250}.{i % 250}.0/24" for i in range(ranges - 1)]
        for target in targets:
            await store.add_watch("T", "C", target, "U", 1800, now)
        checker = Checker.for_nameservers(catalog, [Nameserver.parse(server.address)], timeout=2.0)
        scheduler = Scheduler(store, checker, AlertRenderer(messages("en"), catalog), interval=1800,
                              batch=4, lease_s=600)
        async with checker.client:
            for label in ("first run (baselines)", "second run (changes only)"):
                if label.startswith("second"):
                    for w in await store.watches("T"):
                        await store.check_now(w.id, time.time())
                start, cpu = time.perf_counter(), time.process_time()
                while await scheduler.tick():
                    pass
                wall, used = time.perf_counter() - start, time.process_time() - cpu
                addresses = 256 * len(targets)
                per_s = addresses / wall
                print(f"{label:28} {len(targets)} watches x 256 addresses x {len(catalog.for_kind('ip4'))} "
                      f"lists: {wall:6.2f} s wall, {used:6.2f} s CPU -> {per_s:,.0f} addresses/s, "
                      f"{per_s * 1800:,.0f} addresses per 30-minute interval")
        print(f"outbox rows queued: {await store.pending_count()} (one summary per watch)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory: {peak:.0f} MB")
    finally:
        await engine.dispose()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ranges", type=int, default=16, help="watched /24 ranges")
    asyncio.run(bench(parser.parse_args().ranges))


if __name__ == "__main__":
    main()
