"""The blocklist engine: every (item, list) pair asked concurrently, answers streamed per item.

Memory stays bounded however many addresses are checked: only the items whose queries are in
flight are held (the DNS window bounds them), and each finished item is handed to the caller as
soon as its last answer (and TXT reason) is in.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bot.dnsbl import wire
from bot.dnsbl.budget import Budgets
from bot.dnsbl.catalog import Catalog
from bot.dnsbl.decode import CLEAN, ERROR, LISTED, UNKNOWN, decode
from bot.dnsbl.expand import Expander, Item, make_resolver
from bot.dnsbl.health import UNREACHABLE, Health, HealthMonitor
from bot.dnsbl.names import prefix_for
from bot.dnsbl.results import ListCheck, Problem, Report
from bot.dnsbl.transport import DnsClient, Nameserver, Outcome
from bot.targets import Target

_RCODE_TEXT = {wire.RCODE_SERVFAIL: "SERVFAIL", wire.RCODE_REFUSED: "REFUSED"}


@dataclass
class CheckRun:
    """Everything a check produced: per-item reports, per-target problems, list health."""

    reports: list[Report] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    health: dict[str, Health] = field(default_factory=dict)
    elapsed: float = 0.0


Finish = Callable[["_Open"], None]


class _Open:
    """An item whose answers are still arriving."""

    __slots__ = ("closed", "remaining", "report")

    def __init__(self, report: Report, remaining: int) -> None:
        self.report = report
        self.remaining = remaining
        self.closed = False


class Checker:
    """Checks items against a catalog through one `DnsClient`; reusable for a bot's lifetime."""

    def __init__(
        self,
        catalog: Catalog,
        client: DnsClient,
        *,
        deadline: float = 30.0,
        health: HealthMonitor | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self.catalog = catalog
        self.budgets = budgets
        self.client = client
        self.deadline = deadline
        self.health = health or HealthMonitor(client)
        self._zone_wire: dict[str, bytes] = {bl.id: wire.encode_name(bl.query_zone) for bl in catalog}
        # For /metrics: answers by (list, state), and A-query latency per list (sum, count).
        self.results: Counter[tuple[str, str]] = Counter()
        self.latency: dict[str, list[float]] = {bl.id: [0.0, 0] for bl in catalog}
        self._lists_by_kind = {k: catalog.for_kind(k) for k in ("ip4", "ip6", "domain")}

    @classmethod
    def for_nameservers(
        cls, catalog: Catalog, nameservers: Sequence[Nameserver], timeout: float = 2.0,
        deadline: float = 30.0, max_in_flight: int = 256,
    ) -> Checker:
        client = DnsClient(list(nameservers), timeout=timeout, max_in_flight=max_in_flight)
        return cls(catalog, client, deadline=deadline)

    # -- the whole check -------------------------------------------------------------------------

    async def check_targets(
        self, targets: Sequence[Target], progress: Callable[[int, int], None] | None = None,
        live: list[Report] | None = None, fresh: bool = False,
    ) -> CheckRun:
        """Expand `targets` (hostnames, MX), check every item, return reports in input order.

        `progress(done, total)` is called as items finish, for a "checked N of M" line; `live`
        receives each report as soon as its queries are sent, so a caller can show partial
        results (checks not yet `done` are pending)."""
        start = time.monotonic()
        run = CheckRun()
        expander = Expander(make_resolver(self.client.nameservers, self.client.timeout))
        expanded = await asyncio.gather(*(expander.expand(t) for t in targets))
        items: list[Item] = []
        for target, (found, notes, failed) in zip(targets, expanded, strict=True):
            items.extend(found)
            for note in notes:
                run.problems.append(Problem(target.text, note, UNKNOWN if failed else ERROR))
        kinds = {item.kind for item in items}
        lists = [bl for bl in self.catalog if bl.kinds & kinds]
        health_task = asyncio.ensure_future(self.health.probe_all(lists))
        reports = []
        if progress is not None:
            progress(0, len(items))
        async for report in self.stream(items, live, fresh):
            reports.append(report)
            if progress is not None:
                progress(len(reports), len(items))
        if not health_task.done():
            health_task.cancel()  # probes still running past the deadline: no verdict
        run.health = {bl.id: h for bl in lists if (h := self.health.cached(bl.id)) is not None}
        run.reports = sorted(reports, key=lambda r: r.index)
        run.elapsed = time.monotonic() - start
        return run

    async def stream(self, items: Iterable[Item], live: list[Report] | None = None,
                     fresh: bool = False) -> AsyncIterator[Report]:
        """Reports in completion order; at most the DNS window's worth of items is held."""
        done: asyncio.Queue[Report] = asyncio.Queue()
        opened: dict[int, _Open] = {}
        deadline = time.monotonic() + self.deadline
        finished_submitting = asyncio.Event()
        self.client.open()
        # Test points are asked alongside the first items, so health costs no extra round trip.
        health_task = asyncio.ensure_future(self.health.probe_all(list(self.catalog)))

        def finish(entry: _Open) -> None:
            if not entry.closed:
                entry.closed = True
                opened.pop(entry.report.index, None)
                done.put_nowait(entry.report)

        numbered = enumerate(items)
        waiting: list[tuple[int, Item]] = []  # the item the producer holds while it waits

        async def submit_all() -> None:
            try:
                for index, item in numbered:
                    waiting.append((index, item))
                    while done.qsize() > 2 * self.client.max_in_flight:
                        await asyncio.sleep(0.01)  # the consumer is slower than DNS: wait
                    await self.client.wait_for_slot()  # the bounded window
                    waiting.clear()
                    report = self._submit(index, item, opened, finish, fresh)
                    if live is not None:
                        live.append(report)
            finally:
                finished_submitting.set()

        producer = asyncio.ensure_future(submit_all())
        try:
            while True:
                if done.empty() and finished_submitting.is_set() and not opened:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    producer.cancel()
                    for entry in list(opened.values()):
                        self._expire(entry)
                        finish(entry)
                    for index, item in [*waiting, *numbered]:
                        self._unasked(index, item, opened, finish)
                    while not done.empty():
                        yield await self._with_health(done.get_nowait(), deadline)
                    break
                try:
                    report = await asyncio.wait_for(done.get(), timeout=min(remaining, 0.25))
                except TimeoutError:
                    continue
                yield await self._with_health(report, deadline)
        finally:
            producer.cancel()
            if not health_task.done():
                health_task.cancel()

    # -- one item ----------------------------------------------------------------------------

    def _submit(self, index: int, item: Item, opened: dict[int, _Open], finish: Finish,
                fresh: bool = False) -> Report:
        lists = self._lists_by_kind[item.kind]
        report = Report(item.target, item.query, item.kind, item.via, index=index)
        entry = _Open(report, len(lists))
        opened[index] = entry
        if not lists:
            finish(entry)
            return report
        prefix = prefix_for(item.kind, item.query)
        for bl in lists:
            check = ListCheck(bl)
            report.checks.append(check)
            if self.budgets is not None and not self.budgets.take(bl.id):
                budget = self.budgets.of(bl.id)
                assert budget is not None
                check.status, check.cause = UNKNOWN, "budget"
                check.detail = self.budgets.spent_detail(budget)
                self._one_done(entry, check, finish)
                continue
            question = prefix + self._zone_wire[bl.id] + b"\x00\x01\x00\x01"

            def on_a(outcome: Outcome, check: ListCheck = check, prefix: bytes = prefix,
                     started: float = time.monotonic()) -> None:
                if entry.closed:
                    return
                spent = self.latency[check.list.id]
                spent[0] += time.monotonic() - started
                spent[1] += 1
                self._on_a(entry, check, outcome, prefix, finish, fresh)

            self.client.submit(question, on_a, fresh)
        return report

    def _on_a(self, entry: _Open, check: ListCheck, outcome: Outcome, prefix: bytes,
              finish: Finish, fresh: bool = False) -> None:
        reply = outcome.reply
        if reply is None:
            check.status, check.detail = UNKNOWN, outcome.failure or "no answer"
        elif reply.rcode == wire.RCODE_NXDOMAIN or (reply.rcode == 0 and not reply.addresses):
            check.status = CLEAN
        elif reply.rcode != wire.RCODE_NOERROR:
            check.status = UNKNOWN
            check.detail = _RCODE_TEXT.get(reply.rcode, f"rcode {reply.rcode}")
        else:
            decoded = decode(check.list, reply.addresses)
            check.status = decoded.state
            check.codes = decoded.codes
            check.meanings = decoded.meanings
            check.informational = decoded.informational
            check.cause = decoded.cause
            if decoded.state in (LISTED, ERROR) and (
                    self.budgets is None or self.budgets.take(check.list.id)):
                entry.remaining += 1
                question = prefix + self._zone_wire[check.list.id] + b"\x00\x10\x00\x01"

                def on_txt(outcome: Outcome) -> None:
                    if entry.closed:
                        return
                    if outcome.reply is not None and outcome.reply.texts:
                        check.reason = " ".join(dict.fromkeys(outcome.reply.texts))
                    self._one_done(entry, check, finish)

                self.client.submit(question, on_txt, fresh)
        self._one_done(entry, check, finish)

    def _one_done(self, entry: _Open, check: ListCheck, finish: Finish) -> None:
        check.done = True
        self.results[(check.list.id, check.status)] += 1
        entry.remaining -= 1
        if entry.remaining <= 0:
            finish(entry)

    def _unasked(self, index: int, item: Item, opened: dict[int, _Open], finish: Finish) -> None:
        """An item reached after the deadline: a report of unknowns, never a silent gap."""
        report = Report(item.target, item.query, item.kind, item.via, index=index)
        report.checks = [ListCheck(bl, UNKNOWN, detail="overall deadline reached", done=True)
                         for bl in self._lists_by_kind[item.kind]]
        entry = _Open(report, 0)
        opened[index] = entry
        finish(entry)

    @staticmethod
    def _expire(entry: _Open) -> None:
        for check in entry.report.checks:
            if not check.done and check.status == UNKNOWN:
                check.detail = check.detail or "overall deadline reached"

    async def _with_health(self, report: Report, deadline: float) -> Report:
        for check in report.checks:
            health = self.health.cached(check.list.id)
            if health is None:
                try:
                    health = await asyncio.wait_for(
                        self.health.probe(check.list), max(0.0, deadline - time.monotonic())
                    )
                except TimeoutError:
                    continue  # no verdict on the list's health before the deadline
            apply_health(check, health)
        return report


def apply_health(check: ListCheck, health: Health) -> None:
    """Make a sick list's answer say so; its listings never count (see `counts_as_listing`).
    A test point that timed out is no verdict on the list: its own answers stand."""
    if health.usable or health.status == UNREACHABLE:
        return
    check.unreliable = health.detail
    check.unreliable_why = health.why
    if health.status == "lists-world" and check.status == LISTED:
        check.status, check.cause = ERROR, "lists-world"
        check.detail = health.detail
    elif check.status == CLEAN and health.status in ("not-answering", "blocked", "lists-world"):
        check.status, check.detail = UNKNOWN, health.detail
        check.cause = health.cause

