"""`python -m bot` / `blcheck-bot`: start the bot in Socket Mode, over HTTP, or as a console.

Socket Mode when SLACK_APP_TOKEN is set (no public URL needed); HTTP with `--http`; with no
Slack credentials at all, a local console that runs the same listeners in the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from bot import config, logs
from bot.app import authenticate, build_app, build_client
from bot.dnsbl.catalog import catalog_from_env
from bot.errors import BlcheckError, ConfigError
from bot.services import Services
from bot.settings import Settings, load, read_env
from bot.slack_errors import slack_error

log = logging.getLogger("blcheck")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="blcheck-bot", description="The blcheck Slack bot.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--http", action="store_true",
                      help="serve Slack's requests over HTTP (/slack/events) instead of Socket Mode")
    mode.add_argument("--console", action="store_true",
                      help="a local console in this terminal, even when Slack tokens are set")
    p.add_argument("--port", type=int, default=None, help="HTTP port (default PORT, else 3000)")
    p.add_argument("--nameserver", action="append", default=[], metavar="HOST[:PORT]",
                   help="resolver for blocklist queries (default BLCHECK_NAMESERVERS, else the "
                        "system resolver; the console uses a local demo server when neither is set)")
    p.add_argument("--catalog", action="append", default=[], metavar="FILE",
                   help="extra catalog file merged over the built-in lists")
    p.add_argument("--demo", action="store_true",
                   help="check against a local demo blocklist server on loopback")
    p.add_argument("--env-file", default=".env", help="read settings from this file when present")
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--log-json", action="store_true", help="log one JSON object per line")
    return p


_stop: asyncio.Event | None = None


def _catch_stop_signals() -> None:
    """SIGINT and SIGTERM end the bot cleanly; installed before connecting, so a stop that
    comes while starting is not lost."""
    global _stop
    _stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, _stop.set)


async def _wait_for_stop() -> None:
    if _stop is None:
        _catch_stop_signals()
    assert _stop is not None
    await _stop.wait()


_retrying: asyncio.Task[None] | None = None


async def _open_watching(services: Services, settings: Settings) -> None:
    """The watch database. Without it the bot answers everything else, and keeps trying in the
    background (`BLCHECK_DB_RETRY` seconds apart): a database that starts late is picked up."""
    from bot.watch.service import Watching

    try:
        services.watching = await Watching.open(services.checker, settings.lang)
    except BlcheckError:
        raise
    except Exception as exc:
        log.error("watches are off until the database answers (%s: %s)", type(exc).__name__,
                  str(exc).splitlines()[0][:200] if str(exc) else "")


def _start_watching(services: Services, token: str | None) -> None:
    global _retrying
    if services.watching is not None:
        services.watching.start(build_client(services.settings, token=token))
        return

    async def retry() -> None:
        from bot.watch.service import Watching

        delay = float(os.environ.get("BLCHECK_DB_RETRY", "15") or 15)
        while services.watching is None:
            await asyncio.sleep(delay)
            try:
                watching = await Watching.open(services.checker, services.settings.lang)
            except Exception as exc:
                log.debug("database still not available: %s", type(exc).__name__)
                continue
            services.watching = watching
            watching.start(build_client(services.settings, token=token))
            log.info("the database answers: watches are on")

    _retrying = asyncio.get_running_loop().create_task(retry(), name="database-retry")


async def _doctor_at_start(services: Services) -> None:
    """One log line per resolver problem, so an operator sees them without asking."""
    from bot.dnsbl.doctor import examine, report
    from bot.i18n import messages

    t = messages(services.settings.lang)
    try:
        findings, examined = await examine(services.checker.client, services.catalog, t)
    except Exception:
        log.warning("resolver check at start failed", exc_info=True)
        return
    resolver = ", ".join(str(ns) for ns in services.checker.client.nameservers)
    for line in report(t, findings, examined, resolver):
        (log.warning if findings else log.info)("resolver: %s", line)


_doctor_task: asyncio.Task[None] | None = None


def _start_doctor(services: Services) -> None:
    global _doctor_task
    _doctor_task = asyncio.get_running_loop().create_task(_doctor_at_start(services), name="doctor")


async def _metrics_server(services: Services) -> web.AppRunner | None:
    """Socket Mode has no HTTP port: /metrics on BLCHECK_METRICS_PORT, when set (loopback by
    default, BLCHECK_METRICS_HOST to change)."""
    port = os.environ.get("BLCHECK_METRICS_PORT", "").strip()
    if not port.isdigit():
        return None
    from bot import metrics

    app = web.Application()
    metrics.add_route(app, services)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, os.environ.get("BLCHECK_METRICS_HOST", "127.0.0.1"), int(port)).start()
    log.info("metrics on :%s/metrics", port)
    return runner


async def run_socket_mode(services: Services) -> None:
    settings = services.settings
    settings.check_socket_mode()
    client = build_client(settings)
    assert settings.bot_token is not None
    app = build_app(services, client, await authenticate(client, settings.bot_token))
    assert settings.app_token is not None
    try:
        # The SDK would retry a bad app token forever; ask once so the user gets one line.
        await client.apps_connections_open(app_token=settings.app_token)
    except SlackApiError as exc:
        raise ConfigError(f"Slack rejected SLACK_APP_TOKEN ({slack_error(exc)}): create "
                          "an app-level token with connections:write on your app's Basic "
                          "Information page, and turn Socket Mode on.") from None
    handler = AsyncSocketModeHandler(app, settings.app_token, web_client=client)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    _start_watching(services, settings.bot_token)
    _start_doctor(services)
    log.info("connected to Slack in Socket Mode; /blcheck is ready")
    metrics_runner = await _metrics_server(services)
    try:
        await _wait_for_stop()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        if metrics_runner is not None:
            await metrics_runner.cleanup()


def _guard(signing_secret: str) -> Any:
    """Verify Slack's signature and timestamp before Bolt parses the body, and answer 400 to a
    signed body that is not what Slack sends (Bolt would fail with a 500 on it)."""
    verifier = SignatureVerifier(signing_secret)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or request.path != "/slack/events":
            return await handler(request)
        body = (await request.read()).decode("utf-8", "replace")
        if not verifier.is_valid_request(body, dict(request.headers)):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            return await handler(request)
        except (ValueError, KeyError, TypeError):
            log.warning("malformed request body from Slack (%d bytes)", len(body))
            return web.json_response({"error": "malformed request"}, status=400)

    return guard


async def build_http_app(services: Services) -> web.Application:
    """Bolt's aiohttp application plus /healthz, for a load balancer or an orchestrator."""
    settings = services.settings
    settings.check_http()
    client = build_client(settings)
    assert settings.bot_token is not None
    app = build_app(services, client, await authenticate(client, settings.bot_token),
                    verify_requests=True)
    web_app = app.web_app(path="/slack/events", port=settings.port)
    assert settings.signing_secret is not None
    web_app.middlewares.append(_guard(settings.signing_secret))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app.router.add_get("/healthz", healthz)
    from bot import metrics

    metrics.add_route(web_app, services)
    return web_app


async def run_http(services: Services) -> None:
    settings = services.settings
    web_app = await build_http_app(services)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from None
    _start_watching(services, settings.bot_token)
    _start_doctor(services)
    log.info("serving Slack requests on http://%s:%s/slack/events (health: /healthz)",
             settings.host, settings.port)
    try:
        await _wait_for_stop()
    finally:
        await runner.cleanup()


async def run_console(services: Services, banner: str, example: str | None) -> None:
    from bot.console import Console

    console = Console(services)
    await console.start()
    try:
        print(banner, flush=True)
        if example:
            print(f"\n> {example}", flush=True)
            await console.handle(example)
        await console.run(prompt=sys.stdin.isatty())
    finally:
        await console.stop()


CONSOLE_BANNER = """blcheck console: no Slack tokens are set, so the bot answers here, with the same
listeners it runs in Slack. Type a slash command or paste text, e.g.
  /blcheck 198.51.100.7 mail.example.com
  /blcheck help
Type "recheck" to press a result's Recheck button; Ctrl-D or "quit" leaves.
To connect to Slack, see README (SLACK_BOT_TOKEN and SLACK_APP_TOKEN)."""


async def _main(args: argparse.Namespace, settings: Settings) -> int:
    console = args.console or not settings.has_slack
    if not console:
        _catch_stop_signals()
    demo_server = None
    nameservers = None
    wants_demo = args.demo or (console and not args.nameserver
                                and not os.environ.get("BLCHECK_NAMESERVERS"))
    catalog = catalog_from_env(args.catalog)
    if wants_demo:
        from bot.dnsbl.demozones import start_demo_server
        from bot.dnsbl.transport import Nameserver

        demo_server = start_demo_server(catalog)
        nameservers = [Nameserver.parse(demo_server.address)]
    elif args.nameserver:
        nameservers = config.nameservers(args.nameserver)
    services = Services.create(settings, catalog, nameservers)
    await _open_watching(services, settings)
    try:
        if console:
            banner = CONSOLE_BANNER
            example = None
            if demo_server is not None:
                banner += (f"\n\nDNS goes to a local demo blocklist server on {demo_server.address} "
                           "(every list's test points; 11.22.33.0/24 listed on Spamhaus XBL, "
                           "11.22.33.44 on SpamCop too). Set BLCHECK_NAMESERVERS to ask real lists.")
                example = "/blcheck 11.22.33.44"
            await run_console(services, banner, example)
        elif args.http:
            await run_http(services)
        else:
            await run_socket_mode(services)
    finally:
        await services.aclose()
        if demo_server is not None:
            demo_server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        env = read_env(dotenv=Path(args.env_file))
        # Every part reads its own variables (nameservers, catalog, database, intervals): the
        # .env file fills in what the shell did not set, for all of them.
        for name, value in env.items():
            os.environ.setdefault(name, value)
        settings = load(env)
        if args.port is not None:
            settings = Settings(**{**settings.__dict__, "port": args.port})
        secrets = tuple(s for s in (settings.bot_token, settings.app_token,
                                    settings.signing_secret) if s)
        logs.setup(args.log_level, args.log_json or env.get("BLCHECK_LOG_JSON") == "1", secrets)
        if not (args.console or not settings.has_slack) and args.http:
            settings.check_http()
        return asyncio.run(_main(args, settings))
    except BlcheckError as exc:
        print(f"blcheck-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
