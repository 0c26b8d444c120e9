"""Bad and hostile input over Slack: each gets a plain answer, and the bot keeps working."""

from __future__ import annotations

import json

import pytest

from tests.slackbot import BotHarness, blocks_text
from tests.slackstub import BOT_USER_ID, SlackStandIn


@pytest.fixture
def bot(http_bot: BotHarness) -> BotHarness:
    return http_bot


async def still_works(bot: BotHarness, slack: SlackStandIn) -> None:
    ack, _ = await bot.command("12.0.0.7")
    assert ack.text == "12.0.0.7 is clean on all 30 lists"


@pytest.mark.parametrize("text, says", [
    ("a" * 40_000, "is too long to be an address or a domain"),
    ("12.0.0.1 " * 5_000, "5000 targets at once; the limit is 20."),
    ("\x00\x01\x02 \ufffd", "is not a valid domain name"),
])
async def test_huge_or_binary_command_text_is_refused_plainly(bot: BotHarness, slack: SlackStandIn,
                                                              text: str, says: str) -> None:
    ack, url = await bot.command(text)
    assert ack.status == 200 and ack.body["response_type"] == "ephemeral"
    assert says in ack.text
    assert len(json.dumps(ack.body)) < 10_000  # the paste is not echoed back whole
    await still_works(bot, slack)
    assert slack.posts_to(url) == []


async def test_a_40000_character_paste_in_a_dm_gets_a_plain_answer(bot: BotHarness,
                                                                   slack: SlackStandIn) -> None:
    paste = ("Received: from mail.example.net (mail.example.net [11.22.33.44]) by mx.example.org\n"
             * 500)[:40_000]
    await bot.event({"type": "message", "channel_type": "im", "channel": "D0DM", "user": "U0USER",
                     "text": paste, "ts": "1700000400.000001"})
    await slack.wait_for(lambda: bool(slack.messages.get("D0DM")))
    reply = slack.messages["D0DM"][0]
    assert "targets at once; the limit is 20" in reply["text"]


@pytest.mark.parametrize("body, content_type", [
    ("payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    ('{"type": "event_callback", "event": ', "application/json"),
    ("payload=" + json.dumps({"type": "block_actions", "actions": []}), "application/x-www-form-urlencoded"),
    (json.dumps({"type": "event_callback", "event_id": "Ev0BAD", "event": {"type": "app_mention"}}),
     "application/json"),
])
async def test_malformed_payloads_do_not_break_the_bot(bot: BotHarness, slack: SlackStandIn,
                                                       body: str, content_type: str) -> None:
    ack = await bot.post(body, slack.signed_headers(body, content_type=content_type))
    assert ack.status < 500
    await still_works(bot, slack)


async def test_button_with_a_foreign_value_says_so(bot: BotHarness, slack: SlackStandIn) -> None:
    payload, url = slack.action_payload("blcheck_recheck", "not json at all")
    await bot.action(payload)
    await slack.wait_for(lambda: bool(slack.posts_to(url)))
    assert "run /blcheck again" in slack.posts_to(url)[0].body["text"]


async def test_command_in_a_channel_without_the_bot_is_answered(bot: BotHarness,
                                                                slack: SlackStandIn) -> None:
    slack.channels["C0PRIVATE"] = {"is_member": False, "is_private": True}
    ack, _ = await bot.command("11.22.33.44", channel_id="C0PRIVATE", channel_name="privategroup")
    assert "listed on 2" in ack.text
    assert slack.calls_to("chat.postMessage") == []  # answered without posting to the channel


async def test_mention_where_posting_fails_is_logged_not_fatal(bot: BotHarness, slack: SlackStandIn,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    slack.channels["C0GONE"] = {"is_member": False}
    await bot.event(slack.mention_event(f"<@{BOT_USER_ID}> 11.22.33.44", channel="C0GONE"))
    await slack.wait_for(lambda: bool(slack.calls_to("chat.postMessage")))
    await slack.wait_for(lambda: "not_in_channel" in caplog.text)
    await still_works(bot, slack)


async def test_mention_of_a_refused_address_explains(bot: BotHarness, slack: SlackStandIn) -> None:
    event = slack.mention_event(f"<@{BOT_USER_ID}> check 10.0.0.1 please")
    await bot.event(event)
    await slack.wait_for(lambda: bool(slack.messages.get("C0CHAN")))
    assert "10.0.0.1 is a private address" in blocks_text(slack.messages["C0CHAN"][0])
