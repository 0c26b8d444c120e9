"""The watch loop: claim due watches, check them (bypassing the bot's DNS cache), confirm new
listings with a second query, record the change and its messages in one transaction.

Stateless between ticks: everything is in the database, so a restart resumes where it stopped
and several processes can run this loop on one PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import Callable, Mapping

from bot.dnsbl.checker import Checker
from bot.errors import BlcheckError, ConfigError
from bot.targets import Target, parse_target
from bot.watch.diff import Key, Seen, diff, observe
from bot.watch.store import Announcer, Store, Watch

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 1800  # seconds
USER_FLOOR = 900  # the shortest interval a user may ask for: the lists' free-use terms
JITTER = 0.1  # +-10 % so watches added together do not stay in lockstep


def global_interval(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    raw = env.get("BLCHECK_WATCH_INTERVAL", "").strip()
    if not raw:
        return DEFAULT_INTERVAL
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError("BLCHECK_WATCH_INTERVAL must be a whole number of seconds")
    return int(raw)


class Scheduler:
    def __init__(self, store: Store, checker: Checker, announcer: Announcer, *, interval: int,
                 batch: int = 20, lease_s: float = 300.0, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.checker = checker
        self.announcer = announcer
        self.interval = interval
        self.batch = batch
        self.lease_s = lease_s
        self.clock = clock
        self.checks = 0

    def next_at(self, watch: Watch, now: float) -> float:
        interval = watch.interval_s or self.interval
        return now + interval * (1 + random.uniform(-JITTER, JITTER))

    async def tick(self) -> int:
        """Check every due watch this process can claim; how many were checked."""
        watches = await self.store.claim_due(self.clock(), self.batch, self.lease_s)
        await asyncio.gather(*(self._one(w) for w in watches))
        return len(watches)

    async def _one(self, watch: Watch) -> None:
        try:
            target = parse_target(watch.target)
        except BlcheckError:
            log.warning("watch %s: %r is no longer a valid target", watch.id, watch.target)
            await self.store.release(watch, self.clock() + self.interval)
            return
        try:
            run = await self.checker.check_targets([target], fresh=True)
            obs = observe(run.reports)
            if not watch.baseline_done and not obs.listed and not obs.clean:
                # No list answered: a baseline now would claim "nothing listed". Try again soon.
                await self.store.release(watch, self.clock() + min(self.interval, 60))
                return
            previous = {(x.address, x.list_id) for x in await self.store.listings(watch.id)}
            change = diff(previous, obs)
            if change.new and watch.baseline_done:
                change.new = await self._confirmed(target, change.new)
            now = self.clock()
            self.checks += 1
            await self.store.record(watch, now, change, obs.listed, self.next_at(watch, now), self.announcer)
            health = {k: (h.usable, h.status, h.detail) for k, h in run.health.items()
                      if h.status != "untested"}
            if health:
                await self.store.record_health(health, now, self.announcer)
        except Exception:
            log.exception("watch %s (%s): check failed; retrying next interval", watch.id, watch.target)
            await self.store.release(watch, self.clock() + min(self.interval, 300))

    async def _confirmed(self, target: Target, new: dict[Key, Seen]) -> dict[Key, Seen]:
        """Ask again (fresh) before announcing: a one-off answer is not a listing."""
        again = observe((await self.checker.check_targets([target], fresh=True)).reports)
        return {k: v for k, v in new.items() if k in again.listed}

    async def run(self, stop: asyncio.Event, every: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # the database restarting, say: keep the loop alive
                log.warning("watch tick failed; retrying", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
