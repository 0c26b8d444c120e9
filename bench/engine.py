"""Blocklist engine benchmark: prints figures, asserts nothing.

Against rbldnsd on loopback (30 IPv4 zones from the shipped catalog, ~1% of addresses listed):
  1. wall time for one IP against the whole catalog with one list black-holed;
  2. pairs/s, CPU µs per pair and peak memory for N IPs x 30 zones, for this engine, for
     pydnsbl (c-ares) and for a plain asyncio.gather over dns.asyncresolver, with ratios.
Each measurement runs in a fresh subprocess so that peak memory is its own.

    python bench/engine.py                 # 1,000 and 10,000 IPs, all three engines
    python bench/engine.py --sizes 1000    # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.dnsbl.catalog import Blocklist, Catalog, load_catalog  # noqa: E402
from bot.dnsbl.demozones import sample_code, zones_for  # noqa: E402
from bot.dnsbl.localserver import Entry, FaultyProxy, LocalBlocklistServer  # noqa: E402

ZONES = 30
FIRST = int(ipaddress.IPv4Address("11.0.0.1"))


def bench_lists() -> list[Blocklist]:
    return [bl for bl in load_catalog() if "ip4" in bl.kinds][:ZONES]


def addresses(n: int) -> Iterator[str]:
    for i in range(n):
        yield str(ipaddress.IPv4Address(FIRST + i))


def listings(lists: list[Blocklist], n: int) -> dict[str, list[Entry]]:
    """About 1% of the addresses listed on some zone, with TXT, as real ranges look."""
    out: dict[str, list[Entry]] = {}
    for i, addr in enumerate(addresses(n)):
        if i % 97 == 0:
            bl = lists[i % len(lists)]
            out.setdefault(bl.id, []).append(Entry(addr, sample_code(bl), "Listed: see $"))
    return out


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the three engines, each run in its own process -------------------------------------------


async def run_blcheck(ns: str, n: int) -> int:
    from bot.dnsbl.checker import Checker
    from bot.dnsbl.expand import Item
    from bot.dnsbl.transport import Nameserver

    checker = Checker.for_nameservers(Catalog(tuple(bench_lists())), [Nameserver.parse(ns)],
                                      timeout=2.0, deadline=3600)
    listed = 0
    async with checker.client:
        items = (Item(a, a, "ip4") for a in addresses(n))
        async for report in checker.stream(items):
            listed += len(report.by_status("listed"))
    return listed


async def run_dnspython(ns: str, n: int) -> int:
    import dns.asyncresolver
    import dns.exception
    import dns.nameserver
    import dns.resolver

    host, port = ns.rsplit(":", 1)
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(host, int(port))]
    resolver.timeout, resolver.lifetime = 1.0, 2.0
    zones = [bl.zone for bl in bench_lists()]
    semaphore = asyncio.Semaphore(200)

    async def one(ip: str, zone: str) -> bool:
        name = ".".join(reversed(ip.split("."))) + "." + zone
        async with semaphore:
            try:
                await resolver.resolve(name, "A", search=False)
                return True
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                return False
            except dns.exception.DNSException:
                return False

    results = await asyncio.gather(*(one(ip, z) for ip in addresses(n) for z in zones))
    return sum(results)


def run_pydnsbl(ns: str, n: int) -> int:
    import aiodns
    import pydnsbl
    from pydnsbl.providers import Provider

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    checker = pydnsbl.DNSBLIpChecker(
        providers=[Provider(bl.zone) for bl in bench_lists()], timeout=2, tries=2,
        concurrency=200, loop=loop,
    )
    host, port = ns.rsplit(":", 1)
    # pydnsbl's own resolver, pointed at the loopback server (c-ares takes the port apart).
    checker._resolver = aiodns.DNSResolver(
        nameservers=[host], timeout=2, tries=2, loop=loop, udp_port=int(port), tcp_port=int(port)
    )
    results = checker.bulk_check(list(addresses(n)))
    return sum(len(r.detected_by) for r in results)


def measure(engine: str, ns: str, n: int) -> dict[str, float]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if engine == "blcheck":
        listed = asyncio.run(run_blcheck(ns, n))
    elif engine == "dnspython":
        listed = asyncio.run(run_dnspython(ns, n))
    else:
        listed = run_pydnsbl(ns, n)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    pairs = n * ZONES
    return {"pairs": pairs, "wall": wall, "cpu": cpu, "pairs_per_s": pairs / wall,
            "cpu_us_per_pair": cpu / pairs * 1e6, "peak_mb": peak_mb(), "listed": listed}


def in_subprocess(engine: str, ns: str, n: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", engine, "--ns", ns, "--n", str(n)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# -- scenario 1: one IP, whole catalog, one dead list -----------------------------------------


async def one_ip_with_dead_list(ns: str, timeout: float) -> tuple[float, str, int]:
    from bot.dnsbl.checker import Checker
    from bot.dnsbl.transport import Nameserver
    from bot.targets import parse_target

    checker = Checker.for_nameservers(load_catalog(), [Nameserver.parse(ns)], timeout=timeout)
    async with checker.client:
        start = time.perf_counter()
        run = await checker.check_targets([parse_target("11.0.0.1")])
        wall = time.perf_counter() - start
    zen = next(c for c in run.reports[0].checks if c.list.id == "spamhaus-zen")
    return wall, zen.status, len(run.reports[0].checks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--engines", default="blcheck,pydnsbl,dnspython")
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--measure")
    parser.add_argument("--ns")
    parser.add_argument("--n", type=int)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.ns, args.n)))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    lists = bench_lists()
    full = load_catalog()
    print(f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; rbldnsd on loopback")

    with LocalBlocklistServer(zones_for(full)) as server, FaultyProxy(
        ("127.0.0.1", server.port), drop=["zen.spamhaus.org"]
    ) as proxy:
        wall, zen, n_lists = asyncio.run(one_ip_with_dead_list(proxy.address, args.timeout))
        print(f"\n1 IP x {n_lists} lists, Spamhaus ZEN black-holed, per-query timeout "
              f"{args.timeout:.1f} s: {wall:.3f} s wall (timeout + {wall - args.timeout:.3f} s); "
              f"ZEN reported {zen}")

    with LocalBlocklistServer(zones_for(lists, listings(lists, max(sizes)))) as server:
        print(f"\n{ZONES} zones; pairs = IPs x zones\n")
        header = f"{'engine':10} {'IPs':>6} {'pairs/s':>9} {'wall s':>7} {'CPU µs/pair':>11} "
        print(header + f"{'peak MB':>8} {'listed':>7}")
        for n in sizes:
            figures: dict[str, dict[str, float]] = {}
            for engine in args.engines.split(","):
                f = in_subprocess(engine, server.address, n)
                figures[engine] = f
                print(f"{engine:10} {n:>6} {f['pairs_per_s']:>9,.0f} {f['wall']:>7.2f} "
                      f"{f['cpu_us_per_pair']:>11.1f} {f['peak_mb']:>8.1f} {int(f['listed']):>7}")
            ours = figures.get("blcheck")
            if ours:
                for other in ("pydnsbl", "dnspython"):
                    if other in figures:
                        print(f"  ratio blcheck/{other}: "
                              f"{ours['pairs_per_s'] / figures[other]['pairs_per_s']:.2f}x pairs/s, "
                              f"{figures[other]['cpu_us_per_pair'] / ours['cpu_us_per_pair']:.2f}x "
                              "less CPU per pair")
            print()


if __name__ == "__main__":
    main()
