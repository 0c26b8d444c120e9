"""`blcheck`: the command line over the same core the Slack bot uses.

Exit codes are a contract for scripts and monitoring: 0 clean, 1 listed somewhere, 2 bad input
(takes precedence), 3 nothing listed but some lists could not be checked.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import config
from bot.bounce.mime import MAX_INPUT
from bot.dnsbl.catalog import Catalog, catalog_from_env
from bot.dnsbl.checker import Checker
from bot.dnsbl.health import HealthMonitor
from bot.dnsbl.transport import DnsClient
from bot.errors import BlcheckError, TargetError
from bot.i18n import Messages, Text, messages
from bot.progress import ProgressBar
from bot.render.plain import render_text, run_json
from bot.targets import parse_targets

if TYPE_CHECKING:
    from bot.dnsbl.localserver import LocalBlocklistServer

EXIT_CLEAN, EXIT_LISTED, EXIT_BAD_INPUT, EXIT_UNKNOWN = 0, 1, 2, 3


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--nameserver", action="append", default=[], metavar="HOST[:PORT]",
                   help="resolver to query (repeatable; default BLCHECK_NAMESERVERS, else the "
                        "system resolver)")
    p.add_argument("--catalog", action="append", default=[], metavar="FILE",
                   help="extra catalog file merged over the built-in lists (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--timeout", default=None, metavar="S",
                   help="seconds one query may take, its one retry included (default 2)")
    p.add_argument("--lang", default=None, metavar="LANG",
                   help="language of the output: en or ja (default BLCHECK_LANG, else LANG)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="draw a progress bar on stderr (default: when stderr is a terminal)")


def language(args: argparse.Namespace) -> Messages:
    """--lang, else BLCHECK_LANG, else the locale the terminal runs in (LC_ALL, LANG...)."""
    for value in (getattr(args, "lang", None), *(os.environ.get(k) for k in
                                                 ("BLCHECK_LANG", "LC_ALL", "LC_MESSAGES", "LANG"))):
        if value and value not in ("C", "POSIX"):
            return messages(value)
    return messages(None)


def _bar(args: argparse.Namespace, t: Messages, key: str) -> ProgressBar | None:
    wanted = args.progress if args.progress is not None else sys.stderr.isatty()
    return ProgressBar(t, key) if wanted and not args.json else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="blcheck", description="DNS blocklist checks for mail admins.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check addresses, ranges, hosts, domains or emails")
    check.add_argument("targets", nargs="+", metavar="TARGET")
    check.add_argument("--lists", default="", metavar="ID,...", help="only these lists")
    _common(check)
    lists = sub.add_parser("lists", help="show the catalog")
    lists.add_argument("--health", action="store_true", help="probe every list's test points")
    _common(lists)
    diag = sub.add_parser("diagnose", help="explain a bounce: NDR text, DSN .eml or mail log lines")
    diag.add_argument("files", nargs="*", metavar="FILE|-",
                      help="bounces: files, or - for standard input (the default)")
    diag.add_argument("--no-live", action="store_true",
                      help="do not re-check the refused IP against the blocklists")
    _common(diag)
    doctor = sub.add_parser("doctor", help="is the resolver fit for blocklist queries? what to fix")
    _common(doctor)
    serve = sub.add_parser("demo-server", help="serve the catalog's zones on loopback (rbldnsd)")
    serve.add_argument("--catalog", action="append", default=[], metavar="FILE")
    demo = sub.add_parser("demo", help="check sample addresses against a loopback demo server")
    demo.add_argument("--catalog", action="append", default=[], metavar="FILE")
    return parser


def _catalog(args: argparse.Namespace) -> Catalog:
    catalog = catalog_from_env(args.catalog)
    ids = getattr(args, "lists", "")
    return catalog.select(ids.split(",")) if ids else catalog


async def _check(args: argparse.Namespace) -> int:
    t = language(args)
    words = [w for word in args.targets for w in word.split(",") if w.strip()]
    try:
        targets, errors = parse_targets(words)
    except TargetError as exc:
        targets, errors = [], [exc]
    catalog = _catalog(args)
    if not targets:
        _print_errors(t, errors, args.json)
        return EXIT_BAD_INPUT
    checker = Checker.for_nameservers(
        catalog, config.nameservers(args.nameserver), timeout=config.timeout(args.timeout)
    )
    size = sum(max(1, len(target.addresses)) for target in targets)
    bar = _bar(args, t, "cli.progress") if size > 1 else None
    async with checker.client:
        run = await checker.check_targets(targets, progress=bar)
    if bar is not None:
        bar.close()
    notes = [c for target in targets if (c := target.caveat)]
    if args.json:
        out = run_json(run.reports, run.problems, run.health)
        out["errors"] = [str(e) for e in errors]
        out["notes"] = [str(n) for n in notes]
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        _print_errors(t, errors, False)
        for note in notes:
            print("blcheck: " + t("cli.caveat", text=note.render(t)), file=sys.stderr)
        print(render_text(t, run.reports, run.problems))
    if errors or any(p.status == "error" and not run.reports for p in run.problems):
        return EXIT_BAD_INPUT
    if any(r.listings for r in run.reports):
        return EXIT_LISTED
    if any(r.failures for r in run.reports) or any(p.status == "unknown" for p in run.problems):
        return EXIT_UNKNOWN
    return EXIT_CLEAN


def _print_errors(t: Messages, errors: Sequence[BlcheckError], as_json: bool) -> None:
    if as_json and errors:
        print(json.dumps({"results": [], "errors": [str(e) for e in errors]}, indent=2))
        return
    for exc in errors:
        print(f"blcheck: {_said(t, exc)}", file=sys.stderr)
    if errors:
        print(t("target.usage"), file=sys.stderr)


def _said(t: Messages, exc: BlcheckError) -> str:
    return exc.text.render(t) if isinstance(exc, TargetError) else str(exc)


async def _lists(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    health = {}
    if args.health:
        client = DnsClient(config.nameservers(args.nameserver), timeout=config.timeout(args.timeout))
        async with client:
            health = await HealthMonitor(client).probe_all(list(catalog))
    rows: list[dict[str, Any]] = []
    for bl in catalog:
        h = health.get(bl.id)
        rows.append({
            "id": bl.id, "name": bl.name, "zone": bl.zone, "kinds": sorted(bl.kinds),
            "role": bl.role, "scope": bl.scope, "needs": bl.needs,
            **({"health": h.status, "health_detail": h.detail} if h else {}),
        })
    if args.json:
        print(json.dumps({"lists": rows, "unavailable": [
            {"id": bl.id, "name": bl.name, "why": "needs a Spamhaus DQS key"}
            for bl in catalog.unavailable]}, indent=2))
    else:
        for r in rows:
            status = f"  {r['health']}: {r['health_detail']}".rstrip(": ") if "health" in r else ""
            print(f"{r['id']:22} {','.join(r['kinds']):8} {r['role']:6} {r['zone']}{status}")
        for bl in catalog.unavailable:
            print(f"{bl.id:22} (needs BLCHECK_SPAMHAUS_DQS_KEY)")
    if health and any(not h.usable for h in health.values()):
        return EXIT_UNKNOWN
    return EXIT_CLEAN


def _read_input(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read(MAX_INPUT + 1)
    path = Path(name)
    try:
        with path.open("rb") as f:
            return f.read(MAX_INPUT + 1)
    except OSError as exc:
        raise TargetError(Text("cli.cannot_read", name=name, error=exc.strerror or "")) from None


async def _diagnose(args: argparse.Namespace) -> int:
    """One bounce, or many files (a maillog archive, a folder of NDRs) with a progress bar;
    exit 0 when every input is a bounce."""
    from bot.bounce.diagnose import diagnose, diagnosis_json, live_check
    from bot.bounce.rules import default_rules
    from bot.render.blocktext import blocks_to_text
    from bot.render.diagnosis import diagnosis_message

    t = language(args)
    names: list[str] = args.files or ["-"]
    results = []
    bar = _bar(args, t, "cli.progress_files") if len(names) > 1 else None
    checker: Checker | None = None  # made when a refused IP needs its live re-check
    async with contextlib.AsyncExitStack() as stack:
        for done, name in enumerate(names, 1):
            data = _read_input(name)
            if b"\x00" in data[:65536]:
                raise TargetError(Text("cli.binary", name=name))
            result = diagnose(data)
            if result.is_bounce and not args.no_live and any(f.refused_ip for f in result.failures):
                if checker is None:
                    checker = Checker.for_nameservers(_catalog(args), config.nameservers(args.nameserver),
                                                      timeout=config.timeout(args.timeout))
                    await stack.enter_async_context(checker.client)
                await live_check(result, checker)
            results.append((name, result))
            if bar is not None:
                bar(done, len(names))
    if args.json:
        out: Any = [dict(diagnosis_json(r), file=n) for n, r in results] if len(names) > 1 \
            else diagnosis_json(results[0][1])
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        for name, result in results:
            message = diagnosis_message(t, result, default_rules())
            if len(names) > 1:
                print(f"== {name}")
            print(blocks_to_text(message.blocks, message.text))
    return EXIT_CLEAN if all(r.is_bounce for _, r in results) else EXIT_UNKNOWN


async def _doctor(args: argparse.Namespace) -> int:
    from bot.dnsbl.doctor import examine, report

    t = language(args)
    servers = config.nameservers(args.nameserver)
    client = DnsClient(servers, timeout=config.timeout(args.timeout))
    async with client:
        findings, examined = await examine(client, _catalog(args), t)
    resolver = ", ".join(str(s) for s in servers)
    if args.json:
        print(json.dumps({"resolver": resolver, "lists": examined, "problems": [
            {"list": f.list_id, "name": f.name, "problem": f.problem, "detail": f.detail,
             "advice": f.advice, "seconds": round(f.seconds, 3)} for f in findings]}, indent=2))
    else:
        print("\n".join(report(t, findings, examined, resolver)))
    return EXIT_UNKNOWN if findings else EXIT_CLEAN


def _demo_server(args: argparse.Namespace) -> LocalBlocklistServer:
    from bot.dnsbl.demozones import start_demo_server

    return start_demo_server(catalog_from_env(args.catalog))


def _serve(args: argparse.Namespace) -> int:
    t = language(args)
    server = _demo_server(args)
    print(t("cli.demo.serving", address=server.address))
    print(f"  blcheck check 127.0.0.2 11.22.33.44 --nameserver {server.address}")
    print(t("cli.demo.stop"), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_CLEAN


def _demo(args: argparse.Namespace) -> int:
    t = language(args)
    server = _demo_server(args)
    try:
        print(t("cli.demo.intro", address=server.address))
        print(f"$ blcheck check 127.0.0.2 11.22.33.44 --nameserver {server.address}\n", flush=True)
        check_args = build_parser().parse_args(
            ["check", "127.0.0.2", "11.22.33.44", "--nameserver", server.address,
             *[f"--catalog={c}" for c in args.catalog]]
        )
        asyncio.run(_check(check_args))
        print("\n" + t("cli.demo.after"))
    finally:
        server.stop()
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return asyncio.run(_check(args))
        if args.command == "lists":
            return asyncio.run(_lists(args))
        if args.command == "diagnose":
            return asyncio.run(_diagnose(args))
        if args.command == "doctor":
            return asyncio.run(_doctor(args))
        if args.command == "demo-server":
            return _serve(args)
        return _demo(args)
    except BlcheckError as exc:
        t = language(args)
        print(f"blcheck: {_said(t, exc)}", file=sys.stderr)
        if isinstance(exc, TargetError):
            print(t("target.usage"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
