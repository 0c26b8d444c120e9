"""/metrics in Prometheus's text format: DNS queries, answers by list and state, latency per
list, query budgets, open listings, the outbox (pending, sent) and Slack errors.

Counters live where the work happens (the DNS client, the checker, the sender); this module only
reads them at scrape time, so the hot paths pay a dict update and nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector

from bot.services import Services


class _Snapshot(Collector):
    def __init__(self, services: Services, db: dict[str, float]) -> None:
        self.services = services
        self.db = db

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | SummaryMetricFamily]:
        checker = self.services.checker
        client = checker.client
        sent = CounterMetricFamily("blcheck_dns_queries", "DNS queries sent to the resolver")
        sent.add_metric([], client.sent)
        yield sent
        received = CounterMetricFamily("blcheck_dns_answers", "DNS answers received")
        received.add_metric([], client.received)
        yield received
        results = CounterMetricFamily("blcheck_list_checks", "Answers by list and state",
                                      labels=["list", "state"])
        for (list_id, state), count in sorted(checker.results.items()):
            results.add_metric([list_id, state], count)
        yield results
        latency = SummaryMetricFamily("blcheck_list_latency_seconds", "A-query latency per list",
                                      labels=["list"])
        for list_id, (spent, answered) in sorted(checker.latency.items()):
            latency.add_metric([list_id], count_value=int(answered), sum_value=spent)
        yield latency
        for name, help_text in (("listings_open", "Open listings of watched targets"),
                                ("watches", "Watches"),
                                ("alerts_pending", "Messages waiting in the outbox"),
                                ("alerts_sent", "Messages posted from the outbox")):
            if name in self.db:
                gauge = GaugeMetricFamily(f"blcheck_{name}", help_text)
                gauge.add_metric([], self.db[name])
                yield gauge
        budgets = checker.budgets
        if budgets is not None and budgets.budgets:
            used = GaugeMetricFamily("blcheck_budget_used", "Queries spent today (UTC) per budget",
                                     labels=["budget"])
            limit = GaugeMetricFamily("blcheck_budget_per_day", "Queries a budget allows per day",
                                      labels=["budget"])
            for budget in budgets.budgets.values():
                used.add_metric([budget.id], budgets.used(budget.id))
                limit.add_metric([budget.id], budget.per_day)
            yield used
            yield limit
        watching = self.services.watching
        if watching is not None and watching.sender is not None:
            errors = CounterMetricFamily("blcheck_slack_errors", "Slack errors while posting alerts")
            errors.add_metric([], watching.sender.errors)
            yield errors


async def render(services: Services) -> bytes:
    db: dict[str, float] = {}
    if services.watching is not None:
        try:
            db = await services.watching.store.gauges()
        except Exception:
            db = {}  # the database is down: the DNS metrics still count
    registry = CollectorRegistry()
    registry.register(_Snapshot(services, db))
    return generate_latest(registry)


def add_route(app: web.Application, services: Services) -> None:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=await render(services), content_type="text/plain", charset="utf-8")

    app.router.add_get("/metrics", metrics)
