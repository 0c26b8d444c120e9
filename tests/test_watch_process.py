"""Watches across process deaths and across processes: the bot killed with SIGKILL while an
alert waits in the outbox, then restarted; two bots on one PostgreSQL database; an alert whose
post reached Slack just before a crash."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.dnsbl.catalog import Catalog
from bot.dnsbl.localserver import Entry
from bot.watch.db import make_engine, migrate
from bot.watch.sender import EVENT_TYPE, Sender
from bot.watch.store import Store
from tests.slackbot import settings_for
from tests.slackstub import APP_TOKEN, BOT_TOKEN, SlackStandIn
from tests.test_bot_process import ROOT, BotProcess, bot_env, start
from tests.watchkit import PG_ENV, Zones, backends, fresh_database

XBL = {"spamhaus-zen": [Entry("11.22.33.0/29", "127.0.0.4", "Listed by XBL")]}


@pytest.fixture
def zones(full_catalog: Catalog) -> AsyncIterator[Zones]:
    z = Zones(full_catalog)
    yield z  # type: ignore[misc]
    z.stop()


def env_for(slack: SlackStandIn, zones: Zones, url: str) -> dict[str, str]:
    return bot_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=slack.api_url,
                   BLCHECK_NAMESERVERS=zones.server.address, BLCHECK_DATABASE_URL=url,
                   BLCHECK_WATCH_INTERVAL="2", BLCHECK_TIMEOUT="0.6", BLCHECK_OUTBOX_MAX_DELAY="2",
                   BLCHECK_OUTBOX_LEASE="5",
                   PYTHONPATH=os.environ["PYTHONPATH"] + os.pathsep + str(ROOT))


async def add_watches(url: str, targets: list[str], interval: int = 2) -> None:
    engine = make_engine(url)
    try:
        await migrate(engine)
        store = Store(engine, "test")
        for target in targets:
            await store.add_watch("T0TEST", "C0ALERTS", target, "U0USER", interval, time.time())
    finally:
        await engine.dispose()


def roots(slack: SlackStandIn) -> list[dict]:
    return [m for m in slack.messages.get("C0ALERTS", []) if not m.get("thread_ts")]


@pytest.mark.parametrize("backend", backends())
async def test_sigkill_with_an_alert_in_the_outbox_then_restart(
        backend: str, tmp_path: Path, slack: SlackStandIn, zones: Zones) -> None:
    url, engine = await fresh_database(backend, tmp_path)
    await engine.dispose()
    await add_watches(url, ["11.22.33.1"])
    env = env_for(slack, zones, url)
    bot: BotProcess = await start([], env, tmp_path)
    try:
        await slack.wait_for(lambda: bool(roots(slack)), 20)  # the baseline notice
        slack.fail("chat.postMessage", 500, times=10_000)  # Slack is down from now on
        zones.set(XBL)
        # The listing is recorded and its alert queued, but cannot be posted.
        await slack.wait_for(lambda: len(slack.calls_to("chat.postMessage")) >= 3, 20)
    finally:
        bot.proc.send_signal(signal.SIGKILL)
        await bot.proc.wait()
    assert not any("is now listed" in m["text"] for m in roots(slack))
    slack._failures.clear()  # Slack is back
    bot = await start([], env, tmp_path)
    try:
        # Once the killed process's outbox lease (5 s here) has expired, at the latest.
        await slack.wait_for(lambda: any("is now listed" in m["text"] for m in roots(slack)), 30)
        await asyncio.sleep(5)  # two more intervals: nothing is posted twice
        assert len([m for m in roots(slack) if "is now listed" in m["text"]]) == 1
    finally:
        await bot.stop()


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set: PostgreSQL test skipped")
async def test_two_bots_on_one_postgresql_database_alert_once(tmp_path: Path, slack: SlackStandIn,
                                                             zones: Zones) -> None:
    url, engine = await fresh_database("postgresql", tmp_path)
    await engine.dispose()
    targets = [f"11.22.33.{i}" for i in range(1, 7)]
    await add_watches(url, targets)
    env = env_for(slack, zones, url)
    bots = [await start([], env, tmp_path), await start([], env, tmp_path)]
    try:
        await slack.wait_for(lambda: len(roots(slack)) >= len(targets), 30)  # baselines
        zones.set(XBL)
        await slack.wait_for(lambda: len([m for m in roots(slack) if "is now listed" in m["text"]])
                             >= len(targets), 40)
        await asyncio.sleep(5)
        texts = [m["text"] for m in roots(slack)]
        for target in targets:
            assert sum(f"{target} is now listed" in t for t in texts) == 1, target
            assert sum(f"Now watching {target}:" in t for t in texts) == 1, target
    finally:
        for bot in bots:
            await bot.stop()


@pytest.mark.parametrize("backend", backends())
async def test_a_post_that_reached_slack_before_a_crash_is_not_repeated(
        backend: str, tmp_path: Path, slack: SlackStandIn) -> None:
    _, engine = await fresh_database(backend, tmp_path)
    try:
        await migrate(engine)
        store = Store(engine, "me")
        await store.queue_notice("T0TEST", "C0ALERTS", {"text": "hello"}, time.time())
        (message,) = await store.claim_outbox(time.time(), 10, 60)
        assert await store.mark_attempt(message, time.time())  # then Slack accepted the post...
        slack.messages["C0ALERTS"] = [{"type": "message", "ts": f"{time.time():.6f}", "text": "hello",
                                       "metadata": {"event_type": EVENT_TYPE,
                                                    "event_payload": {"id": message.id}}}]
        await store.retry_later(message, time.time() - 1, "crashed")  # ...and the process died
        sender = Sender(store, _client(slack))
        assert await sender.tick() == 1
        assert slack.calls_to("chat.postMessage") == []  # found in the channel, not posted again
        assert json.dumps(slack.messages["C0ALERTS"]).count("hello") == 1
        assert await store.pending_count() == 0
    finally:
        await engine.dispose()


def _client(slack: SlackStandIn):  # type: ignore[no-untyped-def]
    from bot.app import build_client

    return build_client(settings_for(slack), token=BOT_TOKEN)


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set: PostgreSQL test skipped")
async def test_a_database_that_starts_late_is_picked_up(tmp_path: Path, slack: SlackStandIn,
                                                       zones: Zones) -> None:
    from sqlalchemy import make_url, text

    from bot.watch.db import database_url

    base = make_url(database_url({"BLCHECK_DATABASE_URL": os.environ[PG_ENV]}))
    name = f"blcheck_late_{os.getpid()}_{int(time.time())}"
    url = base.set(database=name).render_as_string(hide_password=False)
    env = {**env_for(slack, zones, url), "BLCHECK_DB_RETRY": "0.5"}
    bot = await start([], env, tmp_path)
    admin = make_engine(base.render_as_string(hide_password=False))

    async def blwatch(text_: str) -> str:
        payload, _ = slack.command_payload(text_, command="/blwatch", channel_id="C0ALERTS")
        ack = await slack.wait_ack(await slack.push("slash_commands", payload))
        return str(ack["payload"]["text"])

    try:
        await asyncio.wait_for(slack.ws_connected.wait(), 20)
        assert "not available right now" in await blwatch("list")  # the database is not there yet
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        for _ in range(60):
            answer = await blwatch("add 11.22.33.1")
            if "Now watching" in answer:
                break
            await asyncio.sleep(0.5)
        assert "Now watching 11.22.33.1" in answer
        await slack.wait_for(lambda: any("Now watching 11.22.33.1" in m["text"] for m in roots(slack)), 20)
    finally:
        await bot.stop()
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set: PostgreSQL test skipped")
async def test_three_bots_one_killed_mid_run_every_watch_checked_once_every_alert_once(
        tmp_path: Path, slack: SlackStandIn, zones: Zones) -> None:
    from sqlalchemy import select

    from bot.watch.schema import watch_slices

    url, engine = await fresh_database("postgresql", tmp_path)
    small = [f"11.22.33.{i}" for i in range(1, 7)]
    big = "11.22.64.0/19"  # 8,192 addresses: 32 slices shared by the three processes
    await add_watches(url, [*small, big], interval=3600)  # due once per phase, no more
    env = {**env_for(slack, zones, url), "BLCHECK_WATCH_LEASE": "3"}
    bots = [await start([], env, tmp_path) for _ in range(3)]
    store = Store(engine, "test")

    async def checks() -> dict[str, int]:
        return {w.target: w.checks for w in await store.watches("T0TEST")}

    async def wait_checks(n: int, timeout: float) -> None:
        end = time.monotonic() + timeout
        while min((await checks()).values()) < n and time.monotonic() < end:
            await asyncio.sleep(0.2)

    try:
        await wait_checks(1, 60)
        assert set((await checks()).values()) == {1}  # the baselines: each watch checked once
        zones.set({"spamhaus-zen": [Entry("11.22.33.0/29", "127.0.0.4", "Listed by XBL"),
                                    Entry("11.22.70.9", "127.0.0.3", "Listed by CSS"),
                                    Entry("11.22.95.250", "127.0.0.3", "Listed by CSS")]})
        for w in await store.watches("T0TEST"):
            await store.check_now(w.id, time.time())
        # Kill the process holding a slice of the big range while the run is half done.
        victim = None
        end = time.monotonic() + 30
        while victim is None and time.monotonic() < end:
            async with engine.connect() as conn:
                rows = (await conn.execute(select(watch_slices.c.status, watch_slices.c.lease_owner))).all()
            done = sum(r.status == "done" for r in rows)
            holders = {int(r.lease_owner.split(":")[1]) for r in rows
                       if r.status == "pending" and r.lease_owner}
            if done >= 4 and len(rows) - done >= 8 and holders:
                victim = next(b for b in bots if b.proc.pid in holders)
            else:
                await asyncio.sleep(0.02)
        assert victim is not None, "the run ended before a process could be killed in the middle of it"
        victim.proc.send_signal(signal.SIGKILL)
        await victim.proc.wait()
        await wait_checks(2, 60)
        listed = [*small, big]
        try:
            await slack.wait_for(lambda: all(any(f"{t} is now listed" in m["text"] for m in roots(slack))
                                             for t in listed), 40)
        except AssertionError:
            print("checks:", await checks())
            print("posted:", sorted({m["text"][:90] for m in slack.messages.get("C0ALERTS", [])}))
            raise
        await asyncio.sleep(5)  # past the dead process's leases: nothing is done twice
        assert await checks() == {t: 2 for t in listed}  # every due watch checked once per phase
        texts = [m["text"] for m in roots(slack)]
        for target in listed:
            assert sum(f"{target} is now listed" in t for t in texts) == 1, target
            assert sum(f"Now watching {target}:" in t for t in texts) == 1, target
        (alert,) = [m for m in roots(slack) if f"{big} is now listed" in m["text"]]
        assert "11.22.70.9" in json.dumps(alert["blocks"]) and "11.22.95.250" in json.dumps(alert["blocks"])
    finally:
        for bot in bots:
            await bot.stop()
        await engine.dispose()
