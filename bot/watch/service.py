"""Watching, assembled: the database, the scheduler and the outbox sender, started next to the
Slack app in one event loop (Socket Mode, HTTP and the console alike)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Mapping

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.dnsbl.checker import Checker
from bot.errors import ConfigError
from bot.i18n import messages
from bot.render.alerts import AlertRenderer
from bot.targets import MAX_RANGE, WATCH_RANGE_CEILING
from bot.watch.db import database_url, make_engine, migrate
from bot.watch.scheduler import Scheduler, global_interval
from bot.watch.sender import Sender
from bot.watch.store import Store

log = logging.getLogger(__name__)

DEFAULT_MAX_WATCHES = 200


def max_watches(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    raw = env.get("BLCHECK_MAX_WATCHES", "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_MAX_WATCHES


def max_watch_range(env: Mapping[str, str] | None = None) -> int:
    """Addresses one watch may cover: a /24 unless the operator allows more (up to a /16)."""
    env = os.environ if env is None else env
    raw = env.get("BLCHECK_WATCH_MAX_RANGE", "").strip().lstrip("/")
    if not raw:
        return MAX_RANGE
    if not raw.isdigit():
        raise ConfigError("BLCHECK_WATCH_MAX_RANGE must be a number of addresses (e.g. 65536) "
                          "or a prefix (/16)")
    value = int(raw)
    if env.get("BLCHECK_WATCH_MAX_RANGE", "").strip().startswith("/"):
        value = 2 ** (32 - value) if 0 <= value <= 32 else 0
    if not MAX_RANGE <= value <= WATCH_RANGE_CEILING:
        raise ConfigError(f"BLCHECK_WATCH_MAX_RANGE must be between {MAX_RANGE} (/24) and "
                          f"{WATCH_RANGE_CEILING} (/16) addresses")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    return float(raw) if raw.replace(".", "", 1).isdigit() and float(raw) > 0 else default


class Watching:
    def __init__(self, store: Store, scheduler: Scheduler, interval: int, limit: int,
                 max_delay: float = 300.0, lease_s: float = 60.0, max_range: int = MAX_RANGE) -> None:
        self.store = store
        self.max_range = max_range
        self.max_delay = max_delay
        self.lease_s = lease_s
        self.scheduler = scheduler
        self.interval = interval
        self.limit = limit
        self._stop = asyncio.Event()
        self.sender: Sender | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def open(cls, checker: Checker, lang: str | None = None, url: str | None = None,
                   env: Mapping[str, str] | None = None) -> Watching:
        engine = make_engine(url or database_url(env))
        await migrate(engine)
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        store = Store(engine, owner)
        env = os.environ if env is None else env
        interval = global_interval(env)
        renderer = AlertRenderer(messages(lang), checker.catalog)
        scheduler = Scheduler(store, checker, renderer, interval=interval,
                              lease_s=_seconds(env, "BLCHECK_WATCH_LEASE", 300.0))
        return cls(store, scheduler, interval, max_watches(env),
                   _seconds(env, "BLCHECK_OUTBOX_MAX_DELAY", 300.0),
                   _seconds(env, "BLCHECK_OUTBOX_LEASE", 60.0), max_watch_range(env))

    def start(self, client: AsyncWebClient, tick: float = 1.0) -> None:
        """Run the scheduler and the sender in the background until `close()`."""
        # Only 429 is retried inside the client (Slack refused, nothing was posted); a 5xx or a
        # broken connection may have posted, so the sender decides, checking Slack first.
        client.retry_handlers = [AsyncRateLimitErrorRetryHandler(max_retry_count=3)]
        sender = self.sender = Sender(self.store, client, max_delay=self.max_delay, lease_s=self.lease_s)
        self._tasks = [asyncio.create_task(self.scheduler.run(self._stop, tick), name="watch-scheduler"),
                       asyncio.create_task(sender.run(self._stop, tick), name="outbox-sender")]

    async def close(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
        await self.store.engine.dispose()
