"""Watches end to end on SQLite and PostgreSQL: the real scheduler and outbox sender, rbldnsd
zones changed during the test, the Slack stand-in recording messages and threads."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_client
from bot.channels import ChannelSettings
from bot.dnsbl.budget import Budgets, load_budgets
from bot.dnsbl.catalog import Catalog
from bot.dnsbl.localserver import Entry, FaultyProxy
from bot.dnsbl.transport import Nameserver
from bot.i18n import messages
from bot.render.blocks import ACTION_WATCH
from bot.services import Services
from bot.watch.db import LATEST, MIGRATIONS, current_version, migrate
from bot.watch.service import Watching
from bot.watch.store import Store
from tests.slackbot import BotHarness, settings_for
from tests.slackstub import BOT_TOKEN, SlackStandIn
from tests.watchkit import Zones, backends, fresh_database

XBL = {"spamhaus-zen": [Entry("11.22.33.44", "127.0.0.4", "Listed by XBL")]}
XBL_AND_SPAMCOP = {**XBL, "spamcop": [Entry("11.22.33.44", "127.0.0.2", "Blocked - see spamcop")]}


@pytest.fixture
def zones(full_catalog: Catalog) -> AsyncIterator[Zones]:
    z = Zones(full_catalog)
    yield z  # type: ignore[misc]
    z.stop()


class Rig:
    """The bot with watching on: /blwatch through the HTTP app, alerts through the sender."""

    def __init__(self, bot: BotHarness, watching: Watching, slack: SlackStandIn) -> None:
        self.bot, self.watching, self.slack = bot, watching, slack

    def channel(self, channel: str = "C0CHAN") -> list[dict]:
        return self.slack.messages.get(channel, [])

    def roots(self, channel: str = "C0CHAN") -> list[dict]:
        return [m for m in self.channel(channel) if not m.get("thread_ts")]

    def replies(self, root: dict, channel: str = "C0CHAN") -> list[dict]:
        return [m for m in self.channel(channel) if m.get("thread_ts") == root["ts"]]


async def make_rig(backend: str, tmp_path: Path, slack: SlackStandIn, catalog: Catalog,
                   nameserver: str, env: dict[str, str] | None = None) -> Rig:
    url, engine = await fresh_database(backend, tmp_path)
    await engine.dispose()
    services = Services.create(settings_for(slack), catalog, [Nameserver.parse(nameserver)], timeout=0.6,
                               channels=ChannelSettings(tmp_path / "channels.json"),
                               budgets=Budgets(load_budgets(env or {})))
    watching = await Watching.open(services.checker, url=url,
                                   env={"BLCHECK_WATCH_INTERVAL": "2", **(env or {})})
    services.watching = watching
    bot = await BotHarness("http", slack, services).start()
    watching.start(build_client(services.settings, token=BOT_TOKEN), tick=0.2)
    return Rig(bot, watching, slack)


@pytest.fixture(params=backends())
async def rig(request: pytest.FixtureRequest, tmp_path: Path, slack: SlackStandIn, full_catalog: Catalog,
              zones: Zones) -> AsyncIterator[Rig]:
    r = await make_rig(request.param, tmp_path, slack, full_catalog, zones.server.address)
    yield r
    await r.bot.stop()  # closes the services, the watching loops and the engine


async def test_listing_then_more_then_delisting_in_one_thread(rig: Rig, zones: Zones) -> None:
    slack = rig.slack
    ack, _ = await rig.bot.command("add 11.22.33.44", command="/blwatch")
    assert "Now watching 11.22.33.44 here" in ack.text
    await slack.wait_for(lambda: any("nothing listed" in m["text"] for m in rig.channel()), 15)

    zones.set(XBL)
    await slack.wait_for(lambda: any("is now listed" in m["text"] for m in rig.roots()), 15)
    root = next(m for m in rig.roots() if "is now listed" in m["text"])
    assert root["text"] == ":rotating_light: 11.22.33.44 is now listed: 1 new listing on Spamhaus ZEN"
    assert "Listed by XBL" in json.dumps(root["blocks"])  # the list's TXT reason
    assert "XBL: an infected or misused host" in json.dumps(root["blocks"])  # what the code means
    assert [e["action_id"] for b in root["blocks"] if b["type"] == "actions" for e in b["elements"]] == \
        ["blwatch_recheck", "blwatch_mute"]

    zones.set(XBL_AND_SPAMCOP)
    await slack.wait_for(lambda: any("1 more listing" in m["text"] for m in rig.replies(root)), 15)
    await slack.wait_for(lambda: "2 open listings" in root["text"], 10)  # the root, edited in place

    zones.set({})
    await slack.wait_for(lambda: any("All clear" in m["text"] for m in rig.replies(root)), 15)
    await slack.wait_for(lambda: "Resolved" in root["text"], 10)
    assert len(rig.roots()) == 2  # the baseline notice and one incident root, each once

    ack, _ = await rig.bot.command("history 11.22.33.44")
    timeline = json.dumps(ack.body)
    assert "listed on *Spamhaus ZEN*" in timeline and "delisted from *SpamCop*" in timeline
    await slack.wait_for(lambda: any(u.get("channel") for u in slack.uploads.values()), 15)
    (upload,) = slack.uploads.values()  # and the picture, shared in the channel
    assert upload["data"].startswith(b"\x89PNG") and upload["channel"] == "C0CHAN"


async def test_a_listed_range_at_baseline_is_one_summary(rig: Rig, zones: Zones) -> None:
    zones.set({"spamhaus-zen": [Entry("11.22.33.0/28", "127.0.0.4", "XBL")]})
    ack, _ = await rig.bot.command("add 11.22.33.0/28", command="/blwatch")
    assert "Now watching" in ack.text
    await rig.slack.wait_for(lambda: bool(rig.roots()), 15)
    (summary,) = rig.roots()
    assert summary["text"].startswith(":eyes: Now watching 11.22.33.0/28: 16 addresses already listed")
    assert len(rig.channel()) == 1


async def test_slack_errors_delay_an_alert_but_it_arrives_once(rig: Rig, zones: Zones) -> None:
    await rig.bot.command("add 11.22.33.44", command="/blwatch")
    await rig.slack.wait_for(lambda: bool(rig.channel()), 15)
    rig.slack.fail("chat.postMessage", 500, times=3)
    rig.slack.fail("chat.postMessage", 429, times=1, retry_after=1)
    zones.set(XBL)
    await rig.slack.wait_for(lambda: any("is now listed" in m["text"] for m in rig.roots()), 30)
    statuses = [c.status for c in rig.slack.calls_to("chat.postMessage")]
    assert statuses.count(500) == 3 and statuses.count(429) == 1
    assert len([m for m in rig.roots() if "is now listed" in m["text"]]) == 1


async def test_a_dns_outage_changes_nothing(tmp_path: Path, slack: SlackStandIn, full_catalog: Catalog,
                                             zones: Zones) -> None:
    zones.set(XBL)
    with FaultyProxy(("127.0.0.1", zones.server.port)) as proxy:
        r = await make_rig("sqlite", tmp_path, slack, full_catalog, proxy.address)
        try:
            await r.bot.command("add 11.22.33.44", command="/blwatch")
            await slack.wait_for(lambda: bool(r.roots()), 15)
            proxy.drop = tuple(bl.zone for bl in full_catalog)  # every list stops answering
            checks = r.watching.scheduler.checks
            await slack.wait_for(lambda: r.watching.scheduler.checks >= checks + 2, 20)
            assert proxy.dropped > 0  # the outage really happened
            assert len(r.channel()) == 1  # no "delisted", no "all clear": unknown is not clean
            assert await r.watching.store.pending_count() == 0
        finally:
            await r.bot.stop()


async def test_watch_button_and_commands(rig: Rig) -> None:
    payload, url = rig.slack.action_payload(ACTION_WATCH, json.dumps({"q": "11.22.33.44 mail.example"}))
    await rig.bot.action(payload)
    await rig.slack.wait_for(lambda: bool(rig.slack.posts_to(url)))
    assert "Now watching 11.22.33.44" in rig.slack.posts_to(url)[0].body["text"]
    ack, _ = await rig.bot.command("add 11.22.33.44", command="/blwatch")
    assert "already watched" in ack.text
    ack, _ = await rig.bot.command("mute 11.22.33.44 2h", command="/blwatch")
    assert "Muted 11.22.33.44 until" in ack.text
    ack, _ = await rig.bot.command("list", command="/blwatch")
    assert "`11.22.33.44`" in json.dumps(ack.body) and "muted until" in json.dumps(ack.body)
    ack, _ = await rig.bot.command("add someone@example.com 10.0.0.1", command="/blwatch")
    assert "watch its domain instead" in ack.text and "private address" in ack.text
    ack, _ = await rig.bot.command("remove 11.22.33.44", command="/blwatch")
    assert "Stopped watching 11.22.33.44" in ack.text
    ack, _ = await rig.bot.command("remove 11.22.33.44", command="/blwatch")
    assert "is not watched in this channel" in ack.text


@pytest.mark.parametrize("backend", backends())
async def test_migrations_are_idempotent_and_leases_exclusive(backend: str, tmp_path: Path) -> None:
    _, engine = await fresh_database(backend, tmp_path)
    try:
        assert await migrate(engine) == await migrate(engine) == LATEST
        async with engine.connect() as conn:
            assert await current_version(conn) == LATEST
        one, two = Store(engine, "one"), Store(engine, "two")
        for i in range(6):
            await one.add_watch("T", "C", f"11.22.33.{i}", "U", 60, 1000.0)
        first, second = await asyncio.gather(one.claim_due(1000.0, 4, 300), two.claim_due(1000.0, 4, 300))
        assert not {w.id for w in first} & {w.id for w in second}  # never the same watch twice
        rest = await two.claim_due(1000.0, 10, 300)
        claimed = [w.id for w in (*first, *second, *rest)]
        assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 6
        assert await two.claim_due(1100.0, 10, 300) == []  # leases still held
        assert len(await two.claim_due(1400.0, 10, 300)) == 6  # expired: a dead process's work resumes
    finally:
        await engine.dispose()


async def test_database_down_gets_a_plain_answer_and_the_loops_survive(rig: Rig) -> None:
    from bot.watch.db import make_engine

    await rig.bot.command("add 11.22.33.44", command="/blwatch")
    good = rig.watching.store.engine
    dead = "postgresql+asyncpg://postgres@127.0.0.1:9/none"  # nothing listens on port 9
    rig.watching.store.engine = make_engine(dead)
    try:
        ack, _ = await rig.bot.command("list", command="/blwatch")
        assert ack.seconds < 3 and "database, which is not available right now" in ack.text
        ack, _ = await rig.bot.command("history 11.22.33.44")
        assert "not available right now" in ack.text
        checks = rig.watching.scheduler.checks
        await asyncio.sleep(1.0)  # the scheduler and the sender keep running, and retry
        assert all(not task.done() for task in rig.watching._tasks)
    finally:
        await rig.watching.store.engine.dispose()
        rig.watching.store.engine = good
    await rig.slack.wait_for(lambda: rig.watching.scheduler.checks > checks, 15)  # back to work


@pytest.mark.parametrize("backend", backends())
async def test_an_old_database_is_upgraded_without_loss(backend: str, tmp_path: Path) -> None:
    from sqlalchemy import insert, text

    from bot.watch import schema

    _, engine = await fresh_database(backend, tmp_path)
    try:
        async with engine.begin() as conn:  # a database as version 1 left it
            await MIGRATIONS[0][1](conn)
            await conn.execute(text("ALTER TABLE watches DROP COLUMN checks"))  # added by version 3
            await conn.execute(insert(schema.schema_version).values(version=1))
            await conn.execute(text(
                "INSERT INTO watches (team_id, channel_id, target, created_at, interval_s, next_check_at,"
                " baseline_done) VALUES ('T', 'C', '11.22.33.44', 1000, 1800, 1000, false)"))
        assert await migrate(engine) == LATEST
        (watch,) = await Store(engine, "new").watches("T")
        assert (watch.target, watch.interval_s, watch.checks) == ("11.22.33.44", 1800, 0)
    finally:
        await engine.dispose()


async def test_a_list_that_breaks_is_announced_once_and_its_recovery_once(rig: Rig, zones: Zones) -> None:
    rig.watching.scheduler.checker.health.ttl = 0.5
    await rig.bot.command("add 11.22.33.44", command="/blwatch")
    await rig.slack.wait_for(lambda: bool(rig.channel()), 15)
    zones.set({}, broken={"barracuda": "world"})
    sick = "Barracuda BRBL is not working right now"
    await rig.slack.wait_for(lambda: any(sick in m["text"] for m in rig.channel()), 15)
    zones.set({})
    back = "Barracuda BRBL works again"
    await rig.slack.wait_for(lambda: any(back in m["text"] for m in rig.channel()), 15)
    checks = rig.watching.scheduler.checks
    await rig.slack.wait_for(lambda: rig.watching.scheduler.checks >= checks + 2, 15)
    texts = [m["text"] for m in rig.channel()]
    assert sum(sick in t for t in texts) == 1 and sum(back in t for t in texts) == 1
    assert not any("is now listed" in t for t in texts)  # a world-listing list alerts nothing


async def test_app_home_lists_watches_and_its_buttons_work(rig: Rig, zones: Zones) -> None:
    zones.set(XBL)
    await rig.bot.command("add 11.22.33.44", command="/blwatch")
    await rig.slack.wait_for(lambda: bool(rig.roots()), 15)
    await rig.bot.event({"type": "app_home_opened", "user": "U0USER", "channel": "D0DM", "tab": "home"})
    await rig.slack.wait_for(lambda: "U0USER" in rig.slack.views)
    home = json.dumps(rig.slack.views["U0USER"])
    assert "Watches in this workspace (1)" in home and "`11.22.33.44`" in home and "1 open" in home
    (wt,) = await rig.watching.store.watches("T0TEST")
    rig.slack.views.clear()
    payload = {"type": "block_actions", "user": {"id": "U0USER"}, "team": {"id": "T0TEST"},
               "view": {"type": "home", "id": "V1"}, "trigger_id": "t",
               "actions": [{"action_id": "blwatch_mute", "type": "button",
                            "value": json.dumps({"w": wt.id})}]}
    await rig.bot.action(payload)
    await rig.slack.wait_for(lambda: "U0USER" in rig.slack.views)
    assert ":mute: muted until" in json.dumps(rig.slack.views["U0USER"])
    (muted,) = await rig.watching.store.watches("T0TEST")
    assert muted.muted_until is not None and muted.muted_until > time.time() + 80_000


async def test_workspace_limit_and_the_interval_floor(rig: Rig) -> None:
    rig.watching.limit = 2
    ack, _ = await rig.bot.command("add 11.22.33.1 every 1m", command="/blwatch")
    assert "Checked every 15 minutes" in ack.text  # a user cannot go below the floor
    ack, _ = await rig.bot.command("add 11.22.33.2 11.22.33.3", command="/blwatch")
    assert "the limit is 2" in ack.text
    assert [w.target for w in await rig.watching.store.watches("T0TEST")] == ["11.22.33.1"]


async def test_a_mute_delays_the_alert_and_loses_nothing(rig: Rig, zones: Zones) -> None:
    await rig.bot.command("add 11.22.33.44", command="/blwatch")
    await rig.slack.wait_for(lambda: bool(rig.channel()), 15)
    ack, _ = await rig.bot.command("mute 11.22.33.44 1h", command="/blwatch")
    assert "Muted" in ack.text
    zones.set(XBL)
    checks = rig.watching.scheduler.checks
    await rig.slack.wait_for(lambda: rig.watching.scheduler.checks >= checks + 2, 15)
    assert len(rig.channel()) == 1  # muted: recorded, not posted
    assert [x.list_id for x in await rig.watching.store.listings(1)] == ["spamhaus-zen"]
    await rig.bot.command("unmute 11.22.33.44", command="/blwatch")
    await rig.slack.wait_for(lambda: any("is now listed" in m["text"] for m in rig.roots()), 15)
    zones.set({})
    root = next(m for m in rig.roots() if "is now listed" in m["text"])
    await rig.slack.wait_for(lambda: any("All clear" in m["text"] for m in rig.replies(root)), 15)


async def test_messages_of_a_removed_watch_are_dropped_not_retried_forever(rig: Rig, zones: Zones) -> None:
    zones.set(XBL)
    rig.slack.fail("chat.postMessage", 500, times=1000)  # nothing gets through for now
    await rig.bot.command("add 11.22.33.44", command="/blwatch")
    await rig.slack.wait_for(lambda: len(rig.slack.calls_to("chat.postMessage")) >= 1, 15)
    await rig.bot.command("remove 11.22.33.44", command="/blwatch")
    rig.slack._failures.clear()
    await rig.slack.wait_for(lambda: bool(rig.channel()), 30)  # the queued summary still arrives
    for _ in range(100):
        if await rig.watching.store.pending_count() == 0:
            break
        await asyncio.sleep(0.2)
    assert await rig.watching.store.pending_count() == 0


async def test_metrics_count_queries_answers_and_alerts(rig: Rig, zones: Zones) -> None:
    import aiohttp

    zones.set(XBL)
    await rig.bot.command("add 11.22.33.44", command="/blwatch")
    await rig.slack.wait_for(lambda: bool(rig.roots()), 15)
    await rig.slack.wait_for(lambda: rig.watching.sender is not None and rig.watching.sender.sent >= 1, 5)
    async with aiohttp.ClientSession() as http, http.get(rig.bot.url + "/metrics") as resp:
        assert resp.status == 200
        body = await resp.text()
    lines = dict(line.rsplit(" ", 1) for line in body.splitlines() if line and not line.startswith("#"))
    assert float(lines["blcheck_dns_queries_total"]) > 30
    assert float(lines['blcheck_list_checks_total{list="spamhaus-zen",state="listed"}']) >= 1
    assert float(lines['blcheck_list_latency_seconds_count{list="spamcop"}']) >= 1
    assert float(lines["blcheck_listings_open"]) == 1.0
    assert float(lines["blcheck_alerts_sent"]) >= 1 and lines["blcheck_alerts_pending"] == "0.0"
    assert "blcheck_slack_errors_total" in lines
    assert float(lines['blcheck_budget_per_day{budget="spamhaus"}']) == 300_000
    assert float(lines['blcheck_budget_used{budget="spamhaus"}']) >= 1


@pytest.mark.parametrize("backend", backends())
async def test_a_big_range_is_checked_slice_by_slice_and_alerts_once(
        backend: str, tmp_path: Path, slack: SlackStandIn, full_catalog: Catalog, zones: Zones) -> None:
    rig = await make_rig(backend, tmp_path, slack, full_catalog, zones.server.address,
                         env={"BLCHECK_WATCH_MAX_RANGE": "/22"})
    try:
        ack, _ = await rig.bot.command("add 11.22.32.0/21", command="/blwatch")
        assert "11.22.32.0/21 has 2,048 addresses; the limit is 1024" in ack.text
        ack, _ = await rig.bot.command("add 11.22.32.0/22", command="/blwatch")
        assert "Now watching 11.22.32.0/22 here" in ack.text
        await slack.wait_for(lambda: any("nothing listed" in m["text"] for m in rig.channel()), 20)
        # Two listings in different slices (256 addresses each) of the range.
        zones.set({"spamhaus-zen": [Entry("11.22.33.44", "127.0.0.4", "Listed by XBL"),
                                    Entry("11.22.35.200", "127.0.0.3", "Listed by CSS")]})
        await slack.wait_for(lambda: any("is now listed" in m["text"] for m in rig.roots()), 20)
        (root,) = [m for m in rig.roots() if "is now listed" in m["text"]]
        blocks = json.dumps(root["blocks"])
        assert "11.22.33.44" in blocks and "11.22.35.200" in blocks
        assert "2 new listings" in root["text"]
        assert rig.watching.scheduler.slices >= 8  # two runs of four slices
        zones.set({})
        await slack.wait_for(lambda: any("All clear" in m["text"] for m in rig.replies(root)), 20)
        await asyncio.sleep(1.5)
        assert len(rig.roots()) == 2  # the baseline notice and one incident (now "Resolved")
        assert "Resolved" in root["text"]
        assert sum("All clear" in m["text"] for m in rig.channel()) == 1
        assert (await rig.watching.store.watches("T0TEST"))[0].checks >= 3
    finally:
        await rig.bot.stop()


async def test_watching_a_range_beyond_a_24_needs_the_operator(rig: Rig) -> None:
    ack, _ = await rig.bot.command("add 11.22.32.0/22", command="/blwatch")
    assert "has 1,024 addresses; the limit is 256 (a /24 in IPv4)" in ack.text


@pytest.mark.parametrize("backend", backends())
async def test_a_query_budget_warns_once_before_it_runs_out_then_says_it_is_spent(
        backend: str, tmp_path: Path, slack: SlackStandIn, full_catalog: Catalog, zones: Zones) -> None:
    # Spamhaus's free-use volume, scaled down: a /24 costs 256 ZEN queries per check.
    rig = await make_rig(backend, tmp_path, slack, full_catalog, zones.server.address,
                         env={"BLCHECK_BUDGET_SPAMHAUS": "1200"})
    try:
        zones.set(XBL)
        await rig.bot.command("add 11.22.33.0/24", command="/blwatch")
        low, spent = "Spamhaus free use: ", "today's 1,200 queries are used up"
        await slack.wait_for(lambda: any(spent in m["text"] for m in rig.channel()), 30)
        warnings = [m for m in rig.channel() if m["text"].startswith(":hourglass: " + low)]
        assert len(warnings) == 1 and "queries used today" in warnings[0]["text"]
        advice = json.dumps(warnings[0]["blocks"])
        assert "BLCHECK_SPAMHAUS_DQS_KEY" in advice and "rsync" in advice
        # Spent: Spamhaus is no longer asked, and says "unknown", never "clean".
        ack, url = await rig.bot.command("11.22.33.44")
        await slack.wait_for(lambda: "query budget for this list is used up" in json.dumps(
            [ack.body, *(p.body for p in slack.posts_to(url))]), 10)
        checks = rig.watching.scheduler.checks
        await slack.wait_for(lambda: rig.watching.scheduler.checks >= checks + 2, 15)
        texts = [m["text"] for m in rig.channel()]
        assert sum(spent in t for t in texts) == 1 and sum(t.startswith(":hourglass:") for t in texts) == 1
        assert not any("All clear" in t or "no longer listed" in t for t in texts)  # unknown ends nothing
    finally:
        await rig.bot.stop()


async def test_history_picture_shows_a_weekly_relisting_at_a_glance(rig: Rig) -> None:
    from io import BytesIO

    from PIL import Image
    from sqlalchemy import insert

    from bot.watch.schema import events

    await rig.bot.command("add 11.22.33.44", command="/blwatch")
    (watch,) = await rig.watching.store.watches("T0TEST")
    now, day = time.time(), 86400.0
    rows = []
    for week in range(12):  # an infected host: listed every week for two days, for 12 weeks
        start = now - (85 - 7 * week) * day
        rows += [dict(watch_id=watch.id, address="11.22.33.44", list_id="spamhaus-zen", kind="listed",
                      at=start, codes="127.0.0.4"),
                 dict(watch_id=watch.id, address="11.22.33.44", list_id="spamhaus-zen", kind="delisted",
                      at=start + 2 * day, codes="127.0.0.4")]
    async with rig.watching.store.engine.begin() as conn:
        await conn.execute(insert(events), rows)
    rig.slack.users["U0JA"] = {"locale": "ja-JP"}
    ack, _ = await rig.bot.command("history 11.22.33.44", user_id="U0JA")
    assert ack.text == messages("ja")("history.title", target="11.22.33.44")
    await rig.slack.wait_for(lambda: any(u.get("channel") for u in rig.slack.uploads.values()), 15)
    (upload,) = rig.slack.uploads.values()
    assert "Spamhaus ZEN" in upload["initial_comment"] and ":repeat:" in upload["initial_comment"]
    image = Image.open(BytesIO(upload["data"])).convert("RGB")
    # Along the list's row, bars and gaps alternate: twelve listings, twelve bars.
    def is_bar(x: int, y: int) -> bool:
        r, g, _ = image.getpixel((x, y))
        return r > 200 and g < 120

    row = next(y for y in range(image.height) for x in range(image.width) if is_bar(x, y)) + 3
    bar = [is_bar(x, row) for x in range(image.width)]
    starts = sum(1 for a, b in zip([False, *bar], bar, strict=False) if b and not a)
    assert starts == 12


async def test_a_test_point_that_times_out_is_not_announced_as_a_broken_list(rig: Rig) -> None:
    from bot.dnsbl.health import LISTS_WORLD, UNREACHABLE, Health

    await rig.bot.command("add 11.22.33.44", command="/blwatch")
    await rig.slack.wait_for(lambda: bool(rig.channel()), 15)
    from sqlalchemy import select

    from bot.watch.schema import outbox

    async def notices_about_spamcop() -> int:
        async with rig.watching.store.engine.connect() as conn:
            payloads = (await conn.execute(select(outbox.c.payload))).scalars().all()
        return sum("SpamCop is not working" in p for p in payloads)

    scheduler = rig.watching.scheduler
    # A loaded resolver loses a probe: DNS trouble, like any unknown answer, posts nothing.
    await scheduler._record_health({"spamcop": Health("spamcop", UNREACHABLE, "test point query failed")})
    assert await notices_about_spamcop() == 0
    await scheduler._record_health({"spamcop": Health("spamcop", LISTS_WORLD, "lists the world")})
    assert await notices_about_spamcop() == 1
    await rig.slack.wait_for(lambda: any("SpamCop is not working" in m["text"] for m in rig.channel()), 10)
