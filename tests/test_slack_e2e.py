"""/blcheck end to end, over HTTP (signed requests) and Socket Mode (a loopback websocket), against
the Slack stand-in and rbldnsd serving the full catalog on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from bot.dnsbl.catalog import Catalog
from bot.dnsbl.localserver import FaultyProxy, LocalBlocklistServer
from bot.render.blocks import ACTION_RECHECK, ACTION_WATCH
from tests.slackbot import BotHarness, blocks_text, start_bot
from tests.slackstub import BOT_USER_ID, SlackStandIn

MODES = ["http", "socket"]


@pytest.fixture(params=MODES)
async def bot(request: pytest.FixtureRequest, slack: SlackStandIn, full_catalog: Catalog,
              demo_server: LocalBlocklistServer) -> AsyncIterator[BotHarness]:
    harness = await start_bot(request.param, slack, full_catalog, demo_server.address)
    yield harness
    await harness.stop()


@pytest.fixture(params=MODES)
async def slow_bot(request: pytest.FixtureRequest, slack: SlackStandIn, full_catalog: Catalog,
                   demo_server: LocalBlocklistServer) -> AsyncIterator[BotHarness]:
    """SpamCop answers after 1.7 s (its TXT too): longer than the bot waits before it
    acknowledges, shorter than the query timeout."""
    with FaultyProxy(("127.0.0.1", demo_server.port), delay={"bl.spamcop.net": 1.7}) as proxy:
        harness = await start_bot(request.param, slack, full_catalog, proxy.address, timeout=2.5)
        yield harness
        await harness.stop()


async def final_post(slack: SlackStandIn, url: str, needle: str, timeout: float = 15) -> dict:
    """The response_url post whose text contains `needle` (the finished result)."""
    await slack.wait_for(lambda: any(needle in p.body.get("text", "") for p in slack.posts_to(url)),
                         timeout)
    return next(p.body for p in slack.posts_to(url) if needle in p.body.get("text", ""))


async def test_quick_check_is_answered_in_the_acknowledgement(bot: BotHarness,
                                                              slack: SlackStandIn) -> None:
    ack, url = await bot.command("11.22.33.44")
    assert ack.status == 200 and ack.seconds < 3
    assert ack.body["response_type"] == "in_channel"
    assert ack.text == "11.22.33.44 is listed on 2 of 30 lists: SpamCop, Spamhaus ZEN"
    shown = blocks_text(ack.body)
    assert "Spamhaus ZEN" in shown and "SpamCop" in shown
    assert "XBL: an infected or misused host" in shown  # what the code means
    assert "Listed by XBL, see https://check.spamhaus.org/query/ip/11.22.33.44" in shown  # TXT
    assert "<https://check.spamhaus.org/|Request removal>" in shown  # delisting link
    assert "Clean on 28 lists" in shown
    buttons = [e for b in ack.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [ACTION_RECHECK, ACTION_WATCH]
    assert json.loads(buttons[0]["value"]) == {"q": "11.22.33.44"}
    await asyncio.sleep(0.3)
    assert slack.posts_to(url) == []  # nothing left to replace


async def test_slow_list_first_shows_what_is_pending_then_the_result(
        slow_bot: BotHarness, slack: SlackStandIn) -> None:
    sent = time.monotonic()
    ack, url = await slow_bot.command("11.22.33.44")
    acked = time.monotonic()
    assert 1 < ack.seconds < 3  # waited a little for the answer, within Slack's limit
    assert ack.text == ("11.22.33.44: listed on 1 of 30 lists so far, still waiting for 1 list: "
                        "Spamhaus ZEN")
    assert "Still waiting for 1 list: SpamCop." in blocks_text(ack.body)
    result = await final_post(slack, url, "listed on 2 of 30")
    assert result["replace_original"] is True and result["response_type"] == "in_channel"
    assert "Blocked - see https://www.spamcop.net/bl.shtml?11.22.33.44" in blocks_text(result)
    first_post = slack.posts_to(url)[0]
    assert first_post.at - acked >= 0.9  # never before the message it replaces
    assert first_post.at - sent < 5  # bounded by the query timeout
    await asyncio.sleep(3.5)  # longer than the interval between partial updates
    assert slack.posts_to(url)[-1].body["text"] == result["text"]  # nothing after the answer


async def test_clean_ip(bot: BotHarness) -> None:
    ack, _ = await bot.command("12.0.0.1")
    assert ack.text == "12.0.0.1 is clean on all 30 lists"


async def test_range_gives_a_summary_within_block_kit_limits(bot: BotHarness) -> None:
    ack, _ = await bot.command("11.22.33.0/24")
    assert ack.text == "11.22.33.0/24: 256 of 256 addresses listed: SpamCop, Spamhaus ZEN"
    assert len(ack.body["blocks"]) <= 50
    shown = blocks_text(ack.body)
    assert "`11.22.33.0` – `11.22.33.43` (44): Spamhaus ZEN" in shown
    assert "`11.22.33.44`: Spamhaus ZEN, SpamCop" in shown
    assert "`11.22.33.45` – `11.22.33.255` (211): Spamhaus ZEN" in shown
    # slack.violations (checked by the fixture) covers every Block Kit limit.


@pytest.mark.parametrize("text, says", [
    ("192.168.1.5", "192.168.1.5 is a private address; blocklists only list public ones."),
    ("11.22.0.0/16", "11.22.0.0/16 has 65,536 addresses; the limit is 256"),
    ("not_an..address", "not_an..address is not a valid domain name."),
    ("help", "checks mail servers against DNS blocklists"),
])
async def test_bad_input_and_help_answer_privately_and_check_nothing(
        bot: BotHarness, slack: SlackStandIn, text: str, says: str) -> None:
    ack, url = await bot.command(text)
    assert ack.body["response_type"] == "ephemeral"
    assert says in blocks_text(ack.body)
    assert "/blcheck 198.51.100.7" in blocks_text(ack.body)  # the usage comes with it
    await asyncio.sleep(0.3)
    assert slack.posts_to(url) == []  # and no follow-up: nothing was checked


@pytest.mark.parametrize("typed", ["x&amp;y&lt;!channel&gt;z", "12.0.0.1 x&amp;y&lt;!channel&gt;z"])
async def test_user_text_is_escaped_in_blocks_and_text(bot: BotHarness, typed: str) -> None:
    # Slack sends a typed "<!channel>" as "&lt;!channel&gt;"; the answer must show it, never
    # turn it back into a mention (in the blocks or in the notification text).
    ack, _ = await bot.command(typed)
    everything = json.dumps(ack.body)
    assert "x&amp;y&lt;!channel&gt;z is not a valid domain name." in everything
    assert "<!channel>" not in everything


async def test_ephemeral_reply_mode(slack: SlackStandIn, full_catalog: Catalog,
                                    demo_server: LocalBlocklistServer) -> None:
    with FaultyProxy(("127.0.0.1", demo_server.port), delay={"bl.spamcop.net": 1.7}) as proxy:
        bot = await start_bot("http", slack, full_catalog, proxy.address, timeout=2.5,
                              reply="ephemeral")
        try:
            ack, url = await bot.command("11.22.33.44")
            assert ack.body["response_type"] == "ephemeral"
            result = await final_post(slack, url, "listed on 2")
            assert result["response_type"] == "ephemeral"
        finally:
            await bot.stop()


async def test_response_url_429_then_200_delivers_the_answer_once(slow_bot: BotHarness,
                                                                   slack: SlackStandIn) -> None:
    slack.fail("response_url", 429, retry_after=1)
    _, url = await slow_bot.command("11.22.33.44")
    await final_post(slack, url, "listed on 2 of 30")
    assert [p.status for p in slack.rejected] == [429]
    assert len([p for p in slack.posts_to(url) if "listed on 2" in p.body["text"]]) == 1


async def test_response_url_500_is_retried(slow_bot: BotHarness, slack: SlackStandIn) -> None:
    slack.fail("response_url", 500)
    _, url = await slow_bot.command("11.22.33.44")
    await final_post(slack, url, "listed on 2 of 30")
    assert [p.status for p in slack.rejected] == [500]


async def test_duplicate_event_delivery_is_answered_once(bot: BotHarness, slack: SlackStandIn) -> None:
    event = slack.mention_event(f"<@{BOT_USER_ID}> please check 11.22.33.44")
    first = await bot.event(event, event_id="Ev0DUPLICATE")
    again = await bot.event(event, event_id="Ev0DUPLICATE", retry=1)
    assert first.status == 200 and again.status == 200
    await slack.wait_for(lambda: any("listed on 2" in m.get("text", "")
                                     for m in slack.messages.get("C0CHAN", [])))
    thread = slack.thread("C0CHAN", event["ts"])
    assert len(thread) == 1  # one answer, updated in place
    assert thread[0]["thread_ts"] == event["ts"]
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_a_retry_whose_first_delivery_never_arrived_is_answered(bot: BotHarness,
                                                                      slack: SlackStandIn) -> None:
    event = slack.mention_event(f"<@{BOT_USER_ID}> 12.0.0.4")
    await bot.event(event, event_id="Ev0ONLYRETRY", retry=1)
    await slack.wait_for(lambda: any("clean" in m.get("text", "")
                                     for m in slack.messages.get("C0CHAN", [])))


async def test_chat_post_429_then_200_posts_once(bot: BotHarness, slack: SlackStandIn) -> None:
    slack.fail("chat.postMessage", 429, retry_after=1)
    event = slack.mention_event(f"<@{BOT_USER_ID}> 11.22.33.44")
    await bot.event(event)
    await slack.wait_for(lambda: any("listed on 2" in m.get("text", "")
                                     for m in slack.messages.get("C0CHAN", [])))
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]
    assert len(slack.messages["C0CHAN"]) == 1


async def test_mention_without_targets_gets_help_in_the_thread(bot: BotHarness,
                                                               slack: SlackStandIn) -> None:
    event = slack.mention_event(f"<@{BOT_USER_ID}> hello, what can you do?")
    await bot.event(event)
    await slack.wait_for(lambda: bool(slack.messages.get("C0CHAN")))
    reply = slack.messages["C0CHAN"][0]
    assert reply["thread_ts"] == event["ts"] and "Mention me with a pasted bounce" in reply["text"]


async def test_direct_message_is_checked(bot: BotHarness, slack: SlackStandIn) -> None:
    ts = "1700000200.000001"
    await bot.event({"type": "message", "channel_type": "im", "channel": "D0DM", "user": "U0USER",
                     "text": "is 11.22.33.44 listed?", "ts": ts})
    await slack.wait_for(lambda: any("listed on 2" in m.get("text", "")
                                     for m in slack.messages.get("D0DM", [])))


async def test_recheck_button_replaces_the_result(bot: BotHarness, slack: SlackStandIn) -> None:
    payload, url = slack.action_payload(ACTION_RECHECK, json.dumps({"q": "11.22.33.44"}))
    ack = await bot.action(payload)
    assert ack.status == 200
    result = await final_post(slack, url, "listed on 2 of 30")
    assert result["replace_original"] is True


async def test_watch_button_without_a_database_says_so(bot: BotHarness, slack: SlackStandIn) -> None:
    payload, url = slack.action_payload(ACTION_WATCH, json.dumps({"q": "11.22.33.44"}))
    await bot.action(payload)
    await slack.wait_for(lambda: bool(slack.posts_to(url)))
    body = slack.posts_to(url)[0].body
    assert "needs the bot's database" in body["text"] and body["response_type"] == "ephemeral"
    assert body.get("replace_original") is False


GUIDE = ["why is my mail not arriving?", "`/blcheck 198.51.100.7` asks 30 DNS blocklists",
         "`/blwatch add 198.51.100.0/28`", "*Diagnose bounce*", "`/blcheck doctor`"]


async def test_blcheck_alone_shows_the_first_run_guide_and_checks_nothing(
        bot: BotHarness, slack: SlackStandIn) -> None:
    ack, url = await bot.command("")
    assert ack.body["response_type"] == "ephemeral"
    shown = blocks_text(ack.body)
    for part in GUIDE:  # what it checks with an example, watching, bounces, more
        assert part in shown, part
    assert ack.body["blocks"][0]["type"] == "header"
    await asyncio.sleep(0.3)
    assert slack.posts_to(url) == []


async def test_app_home_shows_the_same_guide_before_any_watch(bot: BotHarness, slack: SlackStandIn) -> None:
    await bot.event({"type": "app_home_opened", "user": "U0USER", "channel": "D0DM", "tab": "home"})
    await slack.wait_for(lambda: "U0USER" in slack.views)
    ack, _ = await bot.command("")
    assert slack.views["U0USER"]["blocks"] == ack.body["blocks"]


async def test_dns_server_that_never_answers_still_gets_an_answer(
        slack: SlackStandIn, full_catalog: Catalog, black_hole: str) -> None:
    for mode in MODES:
        bot = await start_bot(mode, slack, full_catalog, black_hole, timeout=0.5)
        try:
            start = time.monotonic()
            ack, url = await bot.command("11.22.33.44")
            assert ack.seconds < 3
            if "could not be checked" not in ack.text:  # the answer came after the ack
                assert "still waiting for 30 lists" in ack.text
                await final_post(slack, url, "could not be checked")
            took = time.monotonic() - start
            final = ack.body if "could not" in ack.text else slack.posts_to(url)[-1].body
            assert final["text"] == ("11.22.33.44: no listing found, but 30 of 30 lists could "
                                     "not be checked")
            assert "Could not check 30 lists" in blocks_text(final)
            assert took < 5, took  # bounded by the query timeout, not held forever
        finally:
            await bot.stop()


async def test_a_range_with_a_slow_list_shows_partial_results(slow_bot: BotHarness,
                                                              slack: SlackStandIn) -> None:
    ack, url = await slow_bot.command("11.22.33.40/29")
    assert "Still waiting for 1 list: SpamCop." in blocks_text(ack.body)
    assert "`11.22.33.40` – `11.22.33.47` (8): Spamhaus ZEN" in blocks_text(ack.body)  # so far
    assert "0 of 8 checked so far" in blocks_text(ack.body)  # the "checked N of M" line
    result = await final_post(slack, url, "8 of 8 addresses listed")
    assert "`11.22.33.44`: Spamhaus ZEN, SpamCop" in blocks_text(result)


# -- HTTP only: signatures and the extra routes ------------------------------------------------


@pytest.mark.parametrize("how", ["wrong secret", "stale timestamp", "no signature"])
async def test_unsigned_or_stale_requests_are_rejected_and_nothing_runs(
        http_bot: BotHarness, slack: SlackStandIn, how: str) -> None:
    body, url = slack.command_body("11.22.33.44")
    if how == "wrong secret":
        headers = slack.signed_headers(body, secret="not-the-secret")
    elif how == "stale timestamp":
        headers = slack.signed_headers(body, timestamp=int(time.time()) - 301)
    else:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    ack = await http_bot.post(body, headers)
    assert ack.status == 401 and "Checking" not in ack.text and "listed" not in ack.text
    await asyncio.sleep(0.5)
    assert slack.posts_to(url) == []


async def test_url_verification_and_healthz(http_bot: BotHarness, slack: SlackStandIn) -> None:
    raw = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"})
    ack = await http_bot.post(raw, slack.signed_headers(raw, content_type="application/json"))
    assert ack.status == 200 and ack.body == {"challenge": "c-123"}
    assert http_bot.http is not None
    async with http_bot.http.get(http_bot.url + "/healthz") as resp:
        assert resp.status == 200 and (await resp.json())["ok"] is True


async def test_socket_mode_reconnects_after_slack_asks(slack: SlackStandIn, full_catalog: Catalog,
                                                       demo_server: LocalBlocklistServer) -> None:
    bot = await start_bot("socket", slack, full_catalog, demo_server.address)
    try:
        await slack.disconnect("refresh_requested")
        await slack.wait_for(lambda: slack.connections >= 2 and slack.ws_connected.is_set())
        ack, _ = await bot.command("12.0.0.6")
        assert ack.text == "12.0.0.6 is clean on all 30 lists"
    finally:
        await bot.stop()


async def test_documentation_address_is_checked_with_a_caveat(bot: BotHarness) -> None:
    ack, _ = await bot.command("198.51.100.7")
    assert ack.text == "198.51.100.7 is clean on all 30 lists"
    assert "198.51.100.7 is a documentation (example) address" in blocks_text(ack.body)
