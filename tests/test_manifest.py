"""manifest.yml and the listeners agree: everything the manifest promises is answered, and
everything the bot listens to is in the manifest, with no scope it does not need."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import authenticate, build_app, build_client
from bot.dnsbl.catalog import Catalog
from bot.dnsbl.localserver import LocalBlocklistServer
from bot.dnsbl.transport import Nameserver
from bot.services import Services
from tests.slackbot import settings_for
from tests.slackstub import BOT_TOKEN, SlackStandIn

ROOT = Path(__file__).parent.parent
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())
HANDLER_SOURCE = "\n".join(p.read_text() for p in (ROOT / "handlers").glob("*.py"))
BOT_SOURCE = "\n".join(p.read_text() for p in (ROOT / "bot").rglob("*.py"))

# The scope each manifest feature needs (Slack's scope reference); files:read is for bounces
# shared as files, which the message events deliver.
SCOPE_FOR_EVENT = {"app_mention": "app_mentions:read", "message.im": "im:history",
                   "message.channels": "channels:history", "message.groups": "groups:history",
                   "app_home_opened": None}


def test_manifest_asks_only_for_the_scopes_its_features_need() -> None:
    features = MANIFEST["features"]
    events = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    needed = {"chat:write"}  # every answer is a message
    if features.get("slash_commands") or features.get("shortcuts"):
        needed.add("commands")
    needed.update(s for e in events if (s := SCOPE_FOR_EVENT[e]) is not None)
    if any(e.startswith("message.") for e in events):
        needed.add("files:read")
    calls = HANDLER_SOURCE + BOT_SOURCE
    if "users_info(" in calls:
        needed.add("users:read")  # the user's language
    if "files_upload_v2(" in calls:
        needed.add("files:write")  # the history timeline picture
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True  # people DM the bot


def test_every_listener_is_in_the_manifest() -> None:
    commands = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    shortcuts = {s["callback_id"] for s in MANIFEST["features"]["shortcuts"]}
    events = {e.split(".")[0] for e in MANIFEST["settings"]["event_subscriptions"]["bot_events"]}
    assert set(re.findall(r'@app\.command\("([^"]+)"\)', HANDLER_SOURCE)) == commands
    assert set(re.findall(r"@app\.message_shortcut\((\w+)\)", HANDLER_SOURCE)) == {"CALLBACK_DIAGNOSE"}
    assert set(re.findall(r'@app\.event\("([^"]+)"\)', HANDLER_SOURCE)) == events
    assert shortcuts == {"diagnose_bounce"}


async def test_everything_in_the_manifest_is_answered(slack: SlackStandIn, full_catalog: Catalog,
                                                      demo_server: LocalBlocklistServer) -> None:
    settings = settings_for(slack)
    services = Services.create(settings, full_catalog, [Nameserver.parse(demo_server.address)])
    client = build_client(settings)
    app = build_app(services, client, await authenticate(client, BOT_TOKEN))

    async def dispatch(body: str, content_type: str) -> int:
        response = await app.async_dispatch(
            AsyncBoltRequest(body=body, headers={"content-type": [content_type]}))
        return response.status

    try:
        for command in MANIFEST["features"]["slash_commands"]:
            body, _ = slack.command_body("help", command=command["command"])
            assert await dispatch(body, "application/x-www-form-urlencoded") == 200, command
        for shortcut in MANIFEST["features"]["shortcuts"]:
            payload: dict[str, Any] = {
                "type": "message_action", "callback_id": shortcut["callback_id"],
                "team": {"id": "T0TEST"}, "user": {"id": "U0USER"}, "channel": {"id": "C0CHAN"},
                "message": {"type": "message", "text": "554 5.7.1 rejected", "ts": "1.2"},
                "response_url": slack.new_response_url(), "trigger_id": "t"}
            body = urlencode({"payload": json.dumps(payload)})
            assert await dispatch(body, "application/x-www-form-urlencoded") == 200, shortcut
        for name in MANIFEST["settings"]["event_subscriptions"]["bot_events"]:
            kind, _, channel_type = name.partition(".")
            event = {"type": kind, "user": "U0USER", "channel": "C0CHAN", "text": "hello",
                     "ts": "1700000300.000001", "tab": "home"}
            if channel_type:
                event["channel_type"] = {"channels": "channel", "groups": "group"}.get(
                    channel_type, channel_type)
            body = json.dumps(slack.event_body(event))
            assert await dispatch(body, "application/json") == 200, name
    finally:
        await services.aclose()
