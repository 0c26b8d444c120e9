"""How fast /blcheck answers in Slack: time to the acknowledgement (Slack's 3-second limit) and to
the full answer, in HTTP and Socket Mode, against rbldnsd and the Slack stand-in on loopback.

    .venv/bin/python bench/slack.py [--runs 30]

Prints figures; asserts nothing. Each run asks a different address so the DNS cache does not
flatter the result.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.dnsbl.catalog import Catalog, load_catalog
from bot.dnsbl.demozones import start_demo_server
from bot.dnsbl.localserver import FaultyProxy
from tests.slackbot import BotHarness, start_bot
from tests.slackstub import SlackStandIn


async def one(bot: BotHarness, slack: SlackStandIn, text: str, needle: str) -> tuple[float, float]:
    start = time.monotonic()
    ack, url = await bot.command(text)
    acked = ack.seconds  # HTTP: the response to the POST; Socket Mode: push to ack
    if needle in ack.text:  # answered in the acknowledgement itself
        return acked, acked
    await slack.wait_for(lambda: any(needle in p.body.get("text", "") for p in slack.posts_to(url)),
                         timeout=60)
    return acked, time.monotonic() - start


def figures(label: str, samples: list[tuple[float, float]]) -> None:
    acks = sorted(a * 1000 for a, _ in samples)
    answers = sorted(b * 1000 for _, b in samples)

    def p95(xs: list[float]) -> float:
        return xs[min(len(xs) - 1, int(len(xs) * 0.95))]

    print(f"{label:44} ack p50 {statistics.median(acks):7.1f} ms  p95 {p95(acks):7.1f} ms   "
          f"answer p50 {statistics.median(answers):7.1f} ms  p95 {p95(answers):7.1f} ms  (n={len(samples)})")


async def bench(catalog: Catalog, runs: int) -> None:
    server = start_demo_server(catalog)
    try:
        for mode in ("http", "socket"):
            async with SlackStandIn() as slack:
                bot = await start_bot(mode, slack, catalog, server.address, timeout=2.0)
                try:
                    await one(bot, slack, "12.0.0.250", "clean")  # warm-up: health probes
                    listed = [await one(bot, slack, f"11.22.33.{i}", "listed on")
                              for i in range(1, runs + 1)]
                    figures(f"{mode}: one listed IP x {len(catalog.for_kind('ip4'))} lists", listed)
                    clean = [await one(bot, slack, f"12.0.1.{i}", "clean") for i in range(1, runs + 1)]
                    figures(f"{mode}: one clean IP", clean)
                    ranges = [await one(bot, slack, f"11.22.{i}.0/24" if i == 33 else f"12.1.{i}.0/24",
                                        "addresses") for i in (33, 1, 2)]
                    figures(f"{mode}: a /24 (256 IPs)", ranges)
                finally:
                    await bot.stop()
        with FaultyProxy(("127.0.0.1", server.port), drop=["zen.spamhaus.org"]) as proxy:
            async with SlackStandIn() as slack:
                bot = await start_bot("http", slack, catalog, proxy.address, timeout=2.0)
                try:
                    dead = [await one(bot, slack, f"12.0.2.{i}", "could not be checked")
                            for i in range(1, 6)]
                    figures("http: one IP, Spamhaus black-holed (timeout 2 s)", dead)
                finally:
                    await bot.stop()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(bench(load_catalog(), args.runs))


if __name__ == "__main__":
    main()
