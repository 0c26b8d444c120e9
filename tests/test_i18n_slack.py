"""Japanese and English as users see them: the language follows each user's Slack locale, with
the workspace default (BLCHECK_LANG) when Slack gives none or cannot be asked."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator

import pytest

from bot.dnsbl.catalog import Catalog
from bot.dnsbl.localserver import LocalBlocklistServer
from bot.dnsbl.transport import Nameserver
from bot.i18n import messages
from bot.services import Services
from tests.slackbot import BotHarness, blocks_text, settings_for
from tests.slackstub import SlackStandIn

JA, EN = messages("ja"), messages("en")
XBL_MEANING = ("XBL: an infected or misused host sends from this address (exploits, botnet, "
               "includes the former CBL)")


async def harness(slack: SlackStandIn, catalog: Catalog, server: LocalBlocklistServer,
                  lang: str | None = None) -> BotHarness:
    settings = dataclasses.replace(settings_for(slack), lang=lang)
    services = Services.create(settings, catalog, [Nameserver.parse(server.address)], timeout=0.6)
    return await BotHarness("http", slack, services).start()


@pytest.fixture
async def bot(slack: SlackStandIn, full_catalog: Catalog,
              demo_server: LocalBlocklistServer) -> AsyncIterator[BotHarness]:
    h = await harness(slack, full_catalog, demo_server)
    yield h
    await h.stop()


async def test_a_japanese_user_gets_japanese_and_an_english_user_english(
        bot: BotHarness, slack: SlackStandIn) -> None:
    slack.users["U0JA"] = {"locale": "ja-JP"}
    ack, _ = await bot.command("11.22.33.44", user_id="U0JA")
    assert ack.text.startswith(JA.n("verdict.listed", 30, target="11.22.33.44", listed=2))
    shown = blocks_text(ack.body)
    assert JA.text(XBL_MEANING) in shown and JA.text(XBL_MEANING) != XBL_MEANING
    assert any(c.method == "users.info" and c.params.get("include_locale") in ("1", "true", "True")
               for c in slack.calls)
    ack, _ = await bot.command("11.22.33.44")  # U0USER: en-US
    assert ack.text.startswith(EN.n("verdict.listed", 30, target="11.22.33.44", listed=2))
    assert XBL_MEANING in blocks_text(ack.body)


async def test_the_guide_in_japanese(bot: BotHarness, slack: SlackStandIn) -> None:
    slack.users["U0JA"] = {"locale": "ja-JP"}
    ack, _ = await bot.command("", user_id="U0JA")
    assert ack.body["blocks"][0]["text"]["text"] == JA("guide.title")
    assert JA("guide.watch") in blocks_text(ack.body)


async def test_workspace_default_when_slack_gives_no_locale(
        full_catalog: Catalog, demo_server: LocalBlocklistServer) -> None:
    async with SlackStandIn(scopes={"commands", "chat:write"}) as slack:  # no users:read
        bot = await harness(slack, full_catalog, demo_server, lang="ja")
        try:
            slack.users["U0EN"] = {"locale": "en-US"}
            ack, _ = await bot.command("11.22.33.44", user_id="U0EN")
            assert ack.text.startswith(JA.n("verdict.listed", 30, target="11.22.33.44", listed=2))
            assert [c.error for c in slack.calls if c.method == "users.info"] == ["missing_scope"]
            await bot.command("11.22.33.44", user_id="U0EN")  # remembered: not asked again
            assert len([c for c in slack.calls if c.method == "users.info"]) == 1
        finally:
            await bot.stop()


async def test_a_bounce_diagnosis_in_japanese(bot: BotHarness, slack: SlackStandIn) -> None:
    slack.users["U0JA"] = {"locale": "ja-JP"}
    bounce = ("<user@example.net>: host mx.example.net[192.0.2.25] said: 550 5.7.1 Service "
              "unavailable; Client host [11.22.33.44] blocked using zen.spamhaus.org")
    await bot.event({"type": "message", "channel_type": "im", "channel": "D0DM", "user": "U0JA",
                     "text": bounce, "ts": "1700000000.000100"})
    await slack.wait_for(lambda: bool(slack.messages.get("D0DM")), 15)
    shown = json.dumps(slack.messages["D0DM"], ensure_ascii=False)
    assert JA("diag.todo") in shown and EN("diag.todo") not in shown
