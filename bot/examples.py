"""The README's pictures of every message, rendered from the real Block Kit the bot sends.

    .venv/bin/python -m bot.examples           print the examples (Markdown)
    .venv/bin/python -m bot.examples --write   replace them in README.md

Everything comes from the real code paths against the loopback demo server (rbldnsd with the
demo listings): checks, a bounce diagnosis with its live re-check, watch alerts, a budget
warning, the resolver doctor, the guide. Times and durations are pinned, so the output only
changes when a message does, and a test keeps README.md in step.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.bounce.diagnose import diagnose, live_check
from bot.bounce.rules import default_rules
from bot.dnsbl.budget import load_budgets
from bot.dnsbl.catalog import Catalog, load_catalog
from bot.dnsbl.checker import Checker
from bot.dnsbl.demozones import start_demo_server
from bot.dnsbl.doctor import examine, report
from bot.dnsbl.transport import Nameserver
from bot.i18n import Messages, messages
from bot.render.alerts import AlertRenderer
from bot.render.blocks import Message, guide_message, result_message
from bot.render.blocktext import blocks_to_text
from bot.render.diagnosis import diagnosis_message
from bot.targets import parse_target
from bot.watch.store import Listing, Watch

START, END = "<!-- examples:start -->", "<!-- examples:end -->"
README = Path(__file__).resolve().parent.parent / "README.md"
NOW = 1_795_000_000.0  # 2026-11-17 08:26 UTC: pinned, so the examples do not churn

BOUNCE = """Reporting-MTA: dns; mail.example.org
Arrival-Date: Tue, 17 Nov 2026 08:20:11 +0000

Final-Recipient: rfc822; tanaka@example.net
Action: failed
Status: 5.7.1
Remote-MTA: dns; mx1.example.net
Diagnostic-Code: smtp; 554 5.7.1 Service unavailable; Client host [11.22.33.44] blocked using
 zen.spamhaus.org; https://check.spamhaus.org/query/ip/11.22.33.44
"""

Example = tuple[str, str]  # (what the user did, the bot's message as text)


def _text(message: Message | dict[str, Any]) -> str:
    payload = message.payload() if isinstance(message, Message) else message
    return blocks_to_text(payload["blocks"], payload.get("text", ""))


async def _checks(t: Messages, checker: Checker, asked: str) -> str:
    run = await checker.check_targets([parse_target(w) for w in asked.split()], fresh=True)
    run.elapsed = 0.4
    return _text(result_message(t, run, asked))


async def examples(catalog: Catalog, nameserver: str) -> list[Example]:
    en, ja = messages("en"), messages("ja")
    checker = Checker.for_nameservers(catalog, [Nameserver.parse(nameserver)], timeout=1.0)
    lists = len(catalog.for_kind("ip4"))
    out: list[Example] = [("`/blcheck` (nothing else): the first-run guide, also on App Home",
                           _text(guide_message(en, lists=lists)))]
    async with checker.client:
        out.append(("`/blcheck 11.22.33.44`", await _checks(en, checker, "11.22.33.44")))
        out.append(("`/blcheck 11.22.33.40/29 198.51.100.7`",
                    await _checks(en, checker, "11.22.33.40/29 198.51.100.7")))
        out.append(("`/blcheck 11.22.33.44` from a user whose Slack is in Japanese",
                    await _checks(ja, checker, "11.22.33.44")))
        for t, who in ((en, "A DSN pasted with `@blcheck`"), (ja, "The same bounce, for a Japanese user")):
            result = diagnose(BOUNCE)
            await live_check(result, checker)
            diagnosis = diagnosis_message(t, result, default_rules())
            out.append((who + ": the threaded diagnosis", _text(diagnosis)))
        findings, examined = await examine(checker.client, catalog, en)
        # The resolver's label: the demo server's port changes from run to run.
        out.append(("`/blcheck doctor`", "\n".join(report(en, findings, examined, "127.0.0.1"))))
    alerts = AlertRenderer(en, catalog)
    watch = Watch(7, "T0TEAM", "C0ALERTS", "11.22.33.40/29", 1800, NOW, None, NOW, True)
    xbl = [Listing(f"11.22.33.{i}", "spamhaus-zen", "127.0.0.4", "Listed by XBL", NOW)
           for i in (44, 45)]
    cop = Listing("11.22.33.44", "spamcop", "127.0.0.2", "Blocked - see https://www.spamcop.net/bl.shtml",
                  NOW)
    out += [
        ("A watch's first check (`/blwatch add 11.22.33.40/29`)", _text(alerts.baseline(watch, []))),
        ("A new listing: the alert in the channel", _text(alerts.alert(watch, [*xbl, cop], [*xbl, cop]))),
        ("Its thread, when the lists delist", _text(alerts.all_clear(watch, [*xbl, cop]))),
        ("Before a query budget runs out", _text(alerts.budget(load_budgets({})[0], 241_000))),
    ]
    return out


def markdown(found: list[Example]) -> str:
    parts = []
    for what, text in found:
        parts.append(f"**{what}**\n\n```text\n{text.rstrip()}\n```")
    return "\n\n".join(parts)


def replace_block(readme: str, body: str) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(readme):
        raise SystemExit(f"README.md has no {START} ... {END} block")
    return pattern.sub(lambda _: f"{START}\n{body}\n{END}", readme)


async def render(run: Callable[[Catalog, str], Awaitable[list[Example]]] = examples) -> str:
    catalog = load_catalog()
    server = start_demo_server(catalog)
    try:
        return markdown(await run(catalog, server.address))
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="replace the examples in README.md")
    body = asyncio.run(render())
    if parser.parse_args().write:
        README.write_text(replace_block(README.read_text(encoding="utf-8"), body), encoding="utf-8")
    else:
        sys.stdout.write(body + "\n")


if __name__ == "__main__":
    main()
