"""The watch loop: claim due watches, check them (bypassing the bot's DNS cache), confirm new
listings with a second query, record the change and its messages in one transaction.

A range bigger than one slice (256 addresses) is checked slice by slice: its run is written as
slice rows that every process claims from, so three processes share one /16, a process that dies
loses only its leased slices, and memory holds one slice's answers at a time. Whoever finishes
the last slice merges them and records the change.

Stateless between ticks: everything is in the database, so a restart resumes where it stopped
and several processes can run this loop on one PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import random
import time
from collections.abc import Callable, Mapping

from bot.dnsbl.checker import Checker
from bot.dnsbl.health import UNREACHABLE, UNTESTED, Health
from bot.errors import BlcheckError, ConfigError
from bot.targets import Target, parse_target, range_network
from bot.watch.diff import Change, Key, Observation, Seen, diff, observe
from bot.watch.store import Announcer, Slice, Store, Watch

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 1800  # seconds
USER_FLOOR = 900  # the shortest interval a user may ask for: the lists' free-use terms
JITTER = 0.1  # +-10 % so watches added together do not stay in lockstep
SLICE = 256  # addresses per slice of a big range


def global_interval(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    raw = env.get("BLCHECK_WATCH_INTERVAL", "").strip()
    if not raw:
        return DEFAULT_INTERVAL
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError("BLCHECK_WATCH_INTERVAL must be a whole number of seconds")
    return int(raw)


def spans(size: int, step: int = SLICE) -> list[tuple[int, int]]:
    """(first, count) of each slice of a range of `size` addresses."""
    return [(first, min(step, size - first)) for first in range(0, size, step)]


class Scheduler:
    def __init__(self, store: Store, checker: Checker, announcer: Announcer, *, interval: int,
                 batch: int = 20, lease_s: float = 300.0, slice_batch: int = 4,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.checker = checker
        self.announcer = announcer
        self.interval = interval
        self.batch = batch
        self.lease_s = lease_s
        self.slice_batch = slice_batch
        self.clock = clock
        self.checks = 0
        self.slices = 0

    def next_at(self, watch: Watch, now: float) -> float:
        interval = watch.interval_s or self.interval
        return now + interval * (1 + random.uniform(-JITTER, JITTER))

    async def tick(self) -> int:
        """Check every due watch and slice this process can claim; how many it took."""
        now = self.clock()
        watches = await self.store.claim_due(now, self.batch, self.lease_s)
        small = []
        for watch in watches:
            net = range_network(watch.target)
            if net is not None and net.num_addresses > SLICE:
                # The run stays leased for a long time; its slices carry their own short leases.
                await self.store.open_slices(watch, spans(net.num_addresses),
                                             now + max(2 * self.interval, 3600))
            else:
                small.append(watch)
        parts = await self.store.claim_slices(self.clock(), self.slice_batch, self.lease_s)
        await asyncio.gather(*(self._one(w) for w in small), *(self._slice(p) for p in parts))
        await self._spend()
        return len(watches) + len(parts)

    async def _spend(self) -> None:
        """Share this process's queries against the lists' budgets (commands' queries too), and
        warn every watching channel, once a day per level, as a budget runs low or out."""
        budgets = self.checker.budgets
        if budgets is None or not budgets.budgets:
            return
        day, spent = budgets.drain()
        if not spent:
            return  # nothing asked since the last tick: no database round trip
        totals = await self.store.spend(day, spent)
        budgets.sync(day, totals)
        for budget in budgets.budgets.values():
            used = totals.get(budget.id, 0)
            levels = [int(share * 100) for share in (*budget.warn_at, 1.0) if used >= share * budget.per_day]
            if levels:
                await self.store.announce_budget(budget.id, day, max(levels),
                                                 self.announcer.budget(budget, used), self.clock())

    async def _one(self, watch: Watch) -> None:
        try:
            target = parse_target(watch.target, max_range=SLICE)
        except BlcheckError:
            log.warning("watch %s: %r is no longer a valid target", watch.id, watch.target)
            await self.store.release(watch, self.clock() + self.interval)
            return
        try:
            obs = await self._look(target)
            await self._conclude(watch, diff(await self._previous(watch), obs), bool(obs.listed or obs.clean))
        except Exception:
            log.exception("watch %s (%s): check failed; retrying next interval", watch.id, watch.target)
            await self.store.release(watch, self.clock() + min(self.interval, 300))

    async def _slice(self, part: Slice) -> None:
        try:
            watch = await self.store.watch(part.watch_id)
            net = range_network(watch.target) if watch else None
            if watch is None or net is None:
                return  # removed meanwhile: its slices went with it
            addresses = tuple(net[part.first + i] for i in range(part.size))
            obs = await self._look(Target(watch.target, "range", addresses))
            here = {str(a) for a in addresses}
            gone = [k for k in await self._previous(watch) if k[0] in here and k in obs.clean]
            self.slices += 1
            last = await self.store.finish_slice(part, obs.listed, gone, bool(obs.listed or obs.clean),
                                                 self.clock(), self.lease_s)
            if last is None:
                return
            merged = await self.store.slice_results(last.id)
            previous = await self._previous(last)
            new = {k: v for k, v in merged.listed.items() if k not in previous}
            await self._conclude(last, Change(new, merged.gone), merged.answered)
        except Exception:
            log.exception("watch %s: slice at +%s failed; another attempt follows", part.watch_id, part.first)
            await self.store.release_slice(part)

    async def _look(self, target: Target) -> Observation:
        """Check fresh; items some list did not answer (an answer lost under load) are asked
        once more, so a baseline is not taken, or a listing missed, on a gap."""
        run = await self.checker.check_targets([target], fresh=True)
        await self._record_health(run.health)
        obs = observe(run.reports)
        if obs.unanswered and (obs.listed or obs.clean):  # nothing answered: DNS is down, wait
            if target.kind in ("ip", "range"):
                again = Target(target.text, "range",
                               tuple(a for a in target.addresses if str(a) in obs.unanswered))
            else:
                again = target
            second = await self.checker.check_targets([again], fresh=True)
            obs.merge(observe(second.reports))
        return obs

    async def _previous(self, watch: Watch) -> set[Key]:
        return {(x.address, x.list_id) for x in await self.store.listings(watch.id)}

    async def _conclude(self, watch: Watch, change: Change, answered: bool) -> None:
        """Confirm what is new and record the run, or retry soon when nothing answered."""
        if not watch.baseline_done and not answered:
            # No list answered: a baseline now would claim "nothing listed". Try again soon.
            await self.store.release(watch, self.clock() + min(self.interval, 60))
            return
        if change.new and watch.baseline_done:
            change.new = await self._confirmed(watch, change.new)
        now = self.clock()
        self.checks += 1
        await self.store.record(watch, now, change, self.next_at(watch, now), self.announcer)

    async def _record_health(self, health: Mapping[str, Health]) -> None:
        """Only verdicts are announced (lists the world, dead, blocked, wrong answers). A test
        point that timed out says nothing about the list: DNS trouble, like any unknown
        answer, posts nothing, so a loaded resolver does not flap notices into the channel."""
        seen = {k: (h.usable, h.status, h.detail) for k, h in health.items()
                if h.status not in (UNTESTED, UNREACHABLE)}
        if seen:
            await self.store.record_health(seen, self.clock(), self.announcer)

    async def _confirmed(self, watch: Watch, new: dict[Key, Seen]) -> dict[Key, Seen]:
        """Ask again (fresh) before announcing: a one-off answer is not a listing. A range
        re-asks only the addresses that changed."""
        if range_network(watch.target) is not None:
            addresses = tuple(ipaddress.ip_address(a) for a in sorted({a for a, _ in new}))
            target = Target(watch.target, "range", addresses)
        else:
            target = parse_target(watch.target)
        again = observe((await self.checker.check_targets([target], fresh=True)).reports)
        return {k: v for k, v in new.items() if k in again.listed}

    async def run(self, stop: asyncio.Event, every: float = 1.0) -> None:
        while not stop.is_set():
            busy = 0
            try:
                busy = await self.tick()
            except Exception:  # the database restarting, say: keep the loop alive
                log.warning("watch tick failed; retrying", exc_info=True)
            if busy:
                await asyncio.sleep(0)  # more slices may be waiting: take them now
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
