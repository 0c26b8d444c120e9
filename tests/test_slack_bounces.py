"""Bounce diagnosis through Slack, end to end against the stand-in: mentions, the thread a
mention is in, the message shortcut, DMs with a shared .eml, and passive channels."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels import ChannelSettings
from bot.dnsbl.catalog import Catalog
from bot.dnsbl.demozones import zones_for
from bot.dnsbl.localserver import Entry, LocalBlocklistServer
from bot.dnsbl.transport import Nameserver
from bot.services import Services
from tests.slackbot import BotHarness, blocks_text, settings_for
from tests.slackstub import BOT_USER_ID, SlackStandIn

DATA = Path(__file__).parent / "data" / "bounces"
SEED_3 = (DATA / "seed-3-spamhaus-sbl-xbl.txt").read_text()


@pytest.fixture(scope="module")
def xbl_server(full_catalog: Catalog) -> AsyncIterator[LocalBlocklistServer]:
    server = LocalBlocklistServer(zones_for(full_catalog, {
        "spamhaus-zen": [Entry("192.0.2.25", "127.0.0.4", "Listed by XBL")]})).start()
    yield server  # type: ignore[misc]
    server.stop()


@pytest.fixture(params=["http", "socket"])
async def bot(request: pytest.FixtureRequest, slack: SlackStandIn, full_catalog: Catalog,
              xbl_server: LocalBlocklistServer, tmp_path: Path) -> AsyncIterator[BotHarness]:
    services = Services.create(settings_for(slack), full_catalog, [Nameserver.parse(xbl_server.address)],
                               timeout=1.0, channels=ChannelSettings(tmp_path / "channels.json"))
    harness = await BotHarness(request.param, slack, services).start()
    yield harness
    await harness.stop()


def thread_replies(slack: SlackStandIn, channel: str, ts: str) -> list[dict]:
    return [m for m in slack.messages.get(channel, []) if m.get("thread_ts") == ts]


async def test_mention_with_a_pasted_bounce_gets_a_threaded_diagnosis(bot: BotHarness,
                                                                       slack: SlackStandIn) -> None:
    # As Slack delivers it: & < > escaped, the mention first.
    text = f"<@{BOT_USER_ID}> why?\n" + SEED_3.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    event = slack.mention_event(text)
    await bot.event(event)
    await slack.wait_for(lambda: bool(thread_replies(slack, "C0CHAN", event["ts"])))
    reply = thread_replies(slack, "C0CHAN", event["ts"])[0]
    shown = blocks_text(reply)
    assert "Bounce diagnosis: 1 failed recipient (blocked)" in reply["text"]
    assert "Spamhaus SBL/XBL" in shown and "`192.0.2.25`" in shown
    assert "Live check of `192.0.2.25` now: still listed on Spamhaus ZEN (XBL" in shown
    assert "refused until the cause is fixed" in shown


async def test_mention_in_the_thread_of_a_pasted_bounce(bot: BotHarness, slack: SlackStandIn) -> None:
    root = {"type": "message", "user": "U0OTHER", "ts": "1700000500.000001", "text": SEED_3}
    slack.history["C0CHAN"] = [root]
    event = slack.mention_event(f"<@{BOT_USER_ID}>", thread_ts=root["ts"])
    await bot.event(event)
    await slack.wait_for(lambda: bool(thread_replies(slack, "C0CHAN", root["ts"])))
    assert "(blocked)" in thread_replies(slack, "C0CHAN", root["ts"])[0]["text"]
    assert slack.calls_to("conversations.replies")


async def test_shortcut_on_a_bounce_and_on_a_chat_message(bot: BotHarness, slack: SlackStandIn) -> None:
    message = {"type": "message", "user": "U0OTHER", "ts": "1700000600.000001",
               "text": (DATA / "seed-2-poor-reputation.txt").read_text()}
    payload = {"type": "message_action", "callback_id": "diagnose_bounce", "trigger_id": "t1",
               "team": {"id": "T0TEST"}, "user": {"id": "U0USER"}, "channel": {"id": "C0CHAN"},
               "message": message, "response_url": slack.new_response_url()}
    await bot.action(payload)
    await slack.wait_for(lambda: bool(thread_replies(slack, "C0CHAN", message["ts"])))
    assert "(badreputation)" in thread_replies(slack, "C0CHAN", message["ts"])[0]["text"]

    chat = {**message, "ts": "1700000600.000002", "text": "lunch?"}
    url = slack.new_response_url()
    await bot.action({**payload, "message": chat, "response_url": url})
    await slack.wait_for(lambda: bool(slack.posts_to(url)))
    body = slack.posts_to(url)[0].body
    assert body["response_type"] == "ephemeral" and "does not look like a bounce" in body["text"]
    assert not thread_replies(slack, "C0CHAN", chat["ts"])


async def test_shortcut_in_a_channel_without_the_bot_answers_privately(bot: BotHarness,
                                                                       slack: SlackStandIn) -> None:
    slack.channels["C0PRIV"] = {"is_member": False}
    url = slack.new_response_url()
    await bot.action({"type": "message_action", "callback_id": "diagnose_bounce", "trigger_id": "t2",
                      "team": {"id": "T0TEST"}, "user": {"id": "U0USER"}, "channel": {"id": "C0PRIV"},
                      "message": {"type": "message", "ts": "1700000700.000001", "text": SEED_3},
                      "response_url": url})
    await slack.wait_for(lambda: bool(slack.posts_to(url)))
    body = slack.posts_to(url)[0].body
    assert body["response_type"] == "ephemeral" and "(blocked)" in body["text"]
    assert "/invite @blcheck" in json.dumps(body["blocks"])


async def test_dm_with_a_shared_eml_file(bot: BotHarness, slack: SlackStandIn) -> None:
    eml = slack.add_file((DATA / "postfix-gmail-reputation.eml").read_bytes())
    await bot.event({"type": "message", "subtype": "file_share", "channel_type": "im", "channel": "D0DM",
                     "user": "U0USER", "text": "", "ts": "1700000800.000001", "files": [eml]})
    await slack.wait_for(lambda: bool(slack.messages.get("D0DM")))
    reply = slack.messages["D0DM"][0]
    assert "(badreputation)" in reply["text"] and "Gmail" in blocks_text(reply)
    assert slack.file_downloads == 1 and slack.file_denials == 0  # fetched with the bot token


async def test_dm_with_a_binary_file_says_what_is_wrong(bot: BotHarness, slack: SlackStandIn) -> None:
    png = slack.add_file(b"\x89PNG\r\n\x1a\n" + bytes(300), name="screenshot.png", mimetype="image/png")
    await bot.event({"type": "message", "subtype": "file_share", "channel_type": "im", "channel": "D0DM",
                     "user": "U0USER", "text": "", "ts": "1700000900.000001", "files": [png]})
    await slack.wait_for(lambda: bool(slack.messages.get("D0DM")))
    assert "screenshot.png is not a text or .eml file" in slack.messages["D0DM"][0]["text"]
    assert slack.file_downloads == 0


async def test_passive_channel_diagnoses_bounces_and_ignores_chat(bot: BotHarness,
                                                                   slack: SlackStandIn) -> None:
    ack, _ = await bot.command("passive on", channel_id="C0OPS")
    assert ack.body["response_type"] == "ephemeral" and "Passive mode is on" in ack.text
    bounce = {"type": "message", "channel_type": "channel", "channel": "C0OPS", "user": "U0USER",
              "ts": "1700001000.000001", "text": SEED_3}
    chat = {**bounce, "ts": "1700001000.000002", "text": "deploy at 5pm, 203.0.113.9 is the new relay"}
    await bot.event(chat)
    await bot.event(bounce)
    await slack.wait_for(lambda: bool(thread_replies(slack, "C0OPS", bounce["ts"])))
    assert not thread_replies(slack, "C0OPS", chat["ts"])
    assert len(slack.messages["C0OPS"]) == 1

    ack, _ = await bot.command("passive off", channel_id="C0OPS")
    assert "Passive mode is off" in ack.text
    await bot.event({**bounce, "ts": "1700001000.000003"})
    ack, _ = await bot.command("passive", channel_id="C0OPS")  # a round trip: events are handled
    assert "Now: off" in ack.text
    assert len(slack.messages["C0OPS"]) == 1


async def test_chat_in_a_channel_that_did_not_opt_in_is_left_alone(bot: BotHarness,
                                                                    slack: SlackStandIn) -> None:
    await bot.event({"type": "message", "channel_type": "channel", "channel": "C0QUIET",
                     "user": "U0USER", "ts": "1700001100.000001", "text": SEED_3})
    await bot.command("passive", channel_id="C0QUIET")
    assert not slack.messages.get("C0QUIET")
