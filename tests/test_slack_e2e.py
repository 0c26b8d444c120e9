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


async def final_post(slack: SlackStandIn, url: str, needle: str) -> dict:
    """The response_url post whose text contains `needle` (the finished result)."""
    await slack.wait_for(lambda: any(needle in p.body.get("text", "") for p in slack.posts_to(url)))
    return next(p.body for p in slack.posts_to(url) if needle in p.body.get("text", ""))


async def test_listed_ip_acks_at_once_then_replaces_with_every_listing(bot: BotHarness,
                                                                        slack: SlackStandIn) -> None:
    ack, url = await bot.command("11.22.33.44")
    assert ack.status == 200 and ack.seconds < 3
    assert ack.body["response_type"] == "in_channel"
    assert ack.text == "Checking 11.22.33.44 against 30 lists…"
    result = await final_post(slack, url, "listed on 2 of 30 lists")
    assert result["replace_original"] is True and result["response_type"] == "in_channel"
    shown = blocks_text(result)
    assert "Spamhaus ZEN" in shown and "SpamCop" in shown
    assert "Listed by XBL, see https://check.spamhaus.org/query/ip/11.22.33.44" in shown  # TXT
    assert "https://check.spamhaus.org/" in shown  # delisting link
    assert "Clean on 28 lists" in shown
    buttons = [e for b in result["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [ACTION_RECHECK, ACTION_WATCH]
    assert json.loads(buttons[0]["value"]) == {"q": "11.22.33.44"}


async def test_clean_ip(bot: BotHarness, slack: SlackStandIn) -> None:
    _, url = await bot.command("12.0.0.1")
    result = await final_post(slack, url, "clean")
    assert result["text"] == "12.0.0.1 is clean on all 30 lists"


async def test_range_gives_a_summary_within_block_kit_limits(bot: BotHarness,
                                                             slack: SlackStandIn) -> None:
    ack, url = await bot.command("11.22.33.0/24")
    assert "Checking 11.22.33.0/24" in ack.text
    result = await final_post(slack, url, "256 of 256 addresses listed")
    assert len(result["blocks"]) <= 50
    shown = blocks_text(result)
    assert "`11.22.33.0` – `11.22.33.43` (44): Spamhaus ZEN" in shown
    assert "`11.22.33.44`: Spamhaus ZEN, SpamCop" in shown
    # slack.violations (checked by the fixture) covers every Block Kit limit.


@pytest.mark.parametrize("text, says", [
    ("192.168.1.5", "192.168.1.5 is a private address; blocklists only list public ones."),
    ("11.22.0.0/16", "11.22.0.0/16 has 65,536 addresses; the limit is 256"),
    ("not_an..address", "not_an..address is not a valid domain name."),
    ("help", "checks mail servers against DNS blocklists"),
    ("", "checks mail servers against DNS blocklists"),
])
async def test_bad_input_and_help_answer_privately_and_check_nothing(
        bot: BotHarness, slack: SlackStandIn, text: str, says: str) -> None:
    ack, url = await bot.command(text)
    assert ack.body["response_type"] == "ephemeral"
    assert says in blocks_text(ack.body)
    assert "/blcheck 198.51.100.7" in blocks_text(ack.body)  # the usage comes with it
    await bot.command("12.0.0.2")  # a later command is answered...
    await slack.wait_for(lambda: len(slack.posted) == 1)
    assert slack.posts_to(url) == []  # ...but the refused one never got a follow-up


async def test_user_text_is_escaped(bot: BotHarness) -> None:
    # Slack sends a typed "<b>x&y" as "&lt;b&gt;x&amp;y"; the answer must show it, not mark it up.
    ack, _ = await bot.command("x&amp;y&lt;!channel&gt;z")
    blocks = json.dumps(ack.body["blocks"])
    assert "x&amp;y&lt;!channel&gt;z is not a valid domain name." in blocks
    assert "<!channel>" not in blocks


async def test_ephemeral_reply_mode(slack: SlackStandIn, full_catalog: Catalog,
                                    demo_server: LocalBlocklistServer) -> None:
    bot = await start_bot("http", slack, full_catalog, demo_server.address, reply="ephemeral")
    try:
        ack, url = await bot.command("11.22.33.44")
        assert ack.body["response_type"] == "ephemeral"
        result = await final_post(slack, url, "listed on 2")
        assert result["response_type"] == "ephemeral"
    finally:
        await bot.stop()


async def test_response_url_429_then_200_delivers_the_answer_once(bot: BotHarness,
                                                                   slack: SlackStandIn) -> None:
    slack.fail("response_url", 429, retry_after=1)
    _, url = await bot.command("11.22.33.44")
    await final_post(slack, url, "listed on 2 of 30")
    assert len(slack.rejected) == 1
    assert len([p for p in slack.posts_to(url) if "listed on" in p.body["text"]]) == 1


async def test_response_url_500_is_retried(bot: BotHarness, slack: SlackStandIn) -> None:
    slack.fail("response_url", 500)
    _, url = await bot.command("12.0.0.3")
    await final_post(slack, url, "clean on all 30")
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
    assert reply["thread_ts"] == event["ts"] and "Mention me with addresses" in reply["text"]


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


async def test_watch_button_says_it_is_not_there_yet(bot: BotHarness, slack: SlackStandIn) -> None:
    payload, url = slack.action_payload(ACTION_WATCH, json.dumps({"q": "11.22.33.44"}))
    await bot.action(payload)
    await slack.wait_for(lambda: bool(slack.posts_to(url)))
    body = slack.posts_to(url)[0].body
    assert "not available yet" in body["text"] and body["response_type"] == "ephemeral"
    assert body.get("replace_original") is False


async def test_app_home_shows_the_guide(bot: BotHarness, slack: SlackStandIn) -> None:
    await bot.event({"type": "app_home_opened", "user": "U0USER", "channel": "D0DM", "tab": "home"})
    await slack.wait_for(lambda: "U0USER" in slack.views)
    assert "/blcheck 198.51.100.7" in json.dumps(slack.views["U0USER"])


async def test_dns_server_that_never_answers_still_gets_an_answer(
        slack: SlackStandIn, full_catalog: Catalog, black_hole: str) -> None:
    for mode in MODES:
        bot = await start_bot(mode, slack, full_catalog, black_hole, timeout=0.5)
        try:
            start = time.monotonic()
            ack, url = await bot.command("11.22.33.44")
            assert ack.seconds < 3
            result = await final_post(slack, url, "could not be checked")
            took = time.monotonic() - start
            assert result["text"] == ("11.22.33.44: no listing found, but 30 of 30 lists could "
                                      "not be checked")
            assert "Could not check 30 lists" in blocks_text(result)
            assert took < 10, took  # bounded by the query timeout, not held forever
        finally:
            await bot.stop()


async def test_a_slow_list_shows_progress_then_the_answer(
        slack: SlackStandIn, full_catalog: Catalog, demo_server: LocalBlocklistServer) -> None:
    with FaultyProxy(("127.0.0.1", demo_server.port), delay={"bl.spamcop.net": 2.6}) as proxy:
        bot = await start_bot("http", slack, full_catalog, proxy.address, timeout=4.0)
        try:
            _, url = await bot.command("11.22.33.40/29")
            result = await final_post(slack, url, "8 of 8 addresses listed")
            texts = [p.body["text"] for p in slack.posts_to(url)]
            assert texts[0] == "Checking 11.22.33.40/29 against 30 lists…"  # the progress update
            assert "so far" in blocks_text(slack.posts_to(url)[0].body)
            assert texts[-1] == result["text"]  # and nothing after the answer
            await asyncio.sleep(0.5)
            assert len(slack.posts_to(url)) == len(texts)
            assert "SpamCop" in blocks_text(result)  # the slow list's listing is in
        finally:
            await bot.stop()


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
    assert ack.status == 401
    good_body, good_url = slack.command_body("12.0.0.5")
    await http_bot.post(good_body, slack.signed_headers(good_body))
    await slack.wait_for(lambda: bool(slack.posts_to(good_url)))
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
        _, url = await bot.command("12.0.0.6")
        await final_post(slack, url, "clean")
    finally:
        await bot.stop()
