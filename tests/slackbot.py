"""Drive the real bot (the Bolt app built by bot.app / bot.runner) against the Slack stand-in, in
either mode, through one interface, so every end-to-end scenario runs over HTTP and Socket Mode."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import authenticate, build_app, build_client
from bot.dnsbl.catalog import Catalog
from bot.dnsbl.transport import Nameserver
from bot.runner import build_http_app
from bot.services import Services
from bot.settings import Settings
from tests.slackstub import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, SlackStandIn


def settings_for(slack: SlackStandIn, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"bot_token": BOT_TOKEN, "app_token": APP_TOKEN,
                              "signing_secret": SIGNING_SECRET, "api_url": slack.api_url}
    values.update(overrides)
    return Settings(**values)


@dataclass
class Ack:
    """What the bot answered at once: HTTP response body or Socket Mode ack payload."""

    status: int
    body: dict[str, Any]
    seconds: float

    @property
    def text(self) -> str:
        return str(self.body.get("text", ""))


class BotHarness:
    """The bot in one mode, plus a way to send it what Slack sends."""

    def __init__(self, mode: str, slack: SlackStandIn, services: Services) -> None:
        self.mode = mode
        self.slack = slack
        self.services = services
        self.server: TestServer | None = None
        self.handler: AsyncSocketModeHandler | None = None
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> BotHarness:
        if self.mode == "http":
            self.server = TestServer(await build_http_app(self.services), host="127.0.0.1")
            await self.server.start_server()
            self.http = aiohttp.ClientSession()
        else:
            settings = self.services.settings
            client = build_client(settings)
            assert settings.bot_token
            app = build_app(self.services, client, await authenticate(client, settings.bot_token))
            self.handler = AsyncSocketModeHandler(app, settings.app_token, web_client=client)
            await self.handler.connect_async()  # type: ignore[no-untyped-call]
            await self.slack.ws_connected.wait()
        return self

    async def stop(self) -> None:
        if self.handler is not None:
            await self.handler.close_async()  # type: ignore[no-untyped-call]
        if self.http is not None:
            await self.http.close()
        if self.server is not None:
            await self.server.close()
        await self.services.aclose()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    async def post(self, body: str, headers: dict[str, str], path: str = "/slack/events") -> Ack:
        assert self.http is not None
        start = time.monotonic()
        async with self.http.post(self.url + path, data=body.encode(), headers=headers) as resp:
            raw = await resp.text()
            seconds = time.monotonic() - start
            try:
                parsed = json.loads(raw) if raw else {}
            except ValueError:
                parsed = {"text": raw}
            return Ack(resp.status, parsed if isinstance(parsed, dict) else {}, seconds)

    async def command(self, text: str, **kw: Any) -> tuple[Ack, str]:
        """A slash command; returns the immediate answer and the command's response_url."""
        if self.mode == "http":
            body, url = self.slack.command_body(text, **kw)
            return await self.post(body, self.slack.signed_headers(body)), url
        payload, url = self.slack.command_payload(text, **kw)
        start = time.monotonic()
        envelope_id = await self.slack.push("slash_commands", payload)
        ack = await self.slack.wait_ack(envelope_id)
        return Ack(200, ack.get("payload") or {}, time.monotonic() - start), url

    async def event(self, event: dict[str, Any], event_id: str | None = None,
                    retry: int = 0) -> Ack:
        body = self.slack.event_body(event, event_id)
        if self.mode == "http":
            raw = json.dumps(body)
            headers = self.slack.signed_headers(raw, content_type="application/json")
            if retry:
                headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
            return await self.post(raw, headers)
        start = time.monotonic()
        envelope_id = await self.slack.push("events_api", body, retry_attempt=retry,
                                            retry_reason="timeout" if retry else "")
        ack = await self.slack.wait_ack(envelope_id)
        return Ack(200, ack.get("payload") or {}, time.monotonic() - start)

    async def action(self, payload: dict[str, Any]) -> Ack:
        if self.mode == "http":
            body = self.slack.interactive_body(payload)
            return await self.post(body, self.slack.signed_headers(body))
        start = time.monotonic()
        envelope_id = await self.slack.push("interactive", payload)
        ack = await self.slack.wait_ack(envelope_id)
        return Ack(200, ack.get("payload") or {}, time.monotonic() - start)


async def start_bot(mode: str, slack: SlackStandIn, catalog: Catalog, nameserver: str,
                    timeout: float = 1.0, **settings: Any) -> BotHarness:
    services = Services.create(settings_for(slack, **settings), catalog,
                               [Nameserver.parse(nameserver)], timeout=timeout)
    return await BotHarness(mode, slack, services).start()


def blocks_text(body: dict[str, Any]) -> str:
    """Every text in a message (fallback and blocks), for assertions on what a user reads."""
    return str(body.get("text", "")) + "\n" + json.dumps(body.get("blocks") or [], ensure_ascii=False)
