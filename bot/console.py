"""A local console for a machine without Slack: the same Bolt app and listeners, fed by what
the user types and answering into the terminal.

Typed commands become the payloads Slack would send and go through `AsyncApp.async_dispatch`;
the app's Web API calls and response_url posts go to a small loopback server in this process
that prints each message as text. Nothing here leaves the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TextIO
from urllib.parse import urlencode

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import authenticate, build_app
from bot.render.blocktext import blocks_to_text
from bot.services import Services

TEAM, USER, CHANNEL, DM = "T0CONSOLE", "U0YOU", "C0CONSOLE", "D0CONSOLE"
BOT_USER = "U0BLCHECK"
SETTLE_LIMIT = 120.0  # seconds to wait for a listener to finish before taking more input
PASTE_GAP = 0.15  # lines closer together than this are one paste
CONSOLE_WORDS = {"quit", "exit", "help", "?", "recheck", "watch", "[recheck]", "[watch]"}


class ConsoleSlack:
    """The Web API methods and response_url sink the listeners use, printing to `out`."""

    def __init__(self, show: Callable[[str, dict[str, Any]], None]) -> None:
        self.show = show
        self.last_actions: list[dict[str, Any]] = []
        self._ts = 0
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> ConsoleSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk sends users.info as GET
        app.router.add_post("/response/{id}", self._response)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    def response_url(self) -> str:
        return f"{self.base}/response/{uuid.uuid4().hex}"

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{int(time.time())}.{self._ts:06d}"

    def _message(self, where: str, body: dict[str, Any]) -> None:
        blocks = body.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        actions = [e for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]
        if actions:
            self.last_actions = actions
        self.show(where, {"text": body.get("text", ""), "blocks": blocks})

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.method == "GET":
            params: dict[str, Any] = dict(request.query)
        elif request.content_type == "application/json":
            params = await request.json()
        else:
            params = dict(await request.post())
        if method == "auth.test":
            return web.json_response({"ok": True, "team_id": TEAM, "user_id": BOT_USER,
                                      "bot_id": "B0BLCHECK", "team": "console", "user": "blcheck"})
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = params.get("ts") or self._next_ts()
            self._message("updated" if method == "chat.update" else "posted", params)
            return web.json_response({"ok": True, "channel": params.get("channel"), "ts": ts,
                                      "message_ts": ts})
        if method == "users.info":
            # The person at the terminal: their language is the terminal's (LANG=ja_JP.UTF-8).
            user: dict[str, Any] = {"id": params.get("user"), "team_id": TEAM}
            lang = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
            if lang and lang not in ("C", "POSIX") and not lang.startswith("C."):
                user["locale"] = lang.split(".")[0].replace("_", "-")
            return web.json_response({"ok": True, "user": user})
        if method == "views.publish":
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            self.show("App Home", {"text": "", "blocks": (view or {}).get("blocks", [])})
        return web.json_response({"ok": True})

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._message("reply", body)
        return web.Response(text="ok")


class Console:
    """Reads lines, turns them into Slack payloads, dispatches them, waits for the answers."""

    def __init__(self, services: Services, out: TextIO = sys.stdout) -> None:
        self.services = services
        self.out = out
        self.slack = ConsoleSlack(self._print)
        self.app: AsyncApp | None = None

    def _print(self, where: str, message: dict[str, Any]) -> None:
        text = blocks_to_text(message.get("blocks") or [], message.get("text", ""))
        indented = "\n".join("  " + line if line else "" for line in text.splitlines())
        print(f"\nblcheck ({where}):\n{indented}", file=self.out, flush=True)

    async def start(self) -> None:
        await self.slack.start()
        client = AsyncWebClient(base_url=self.slack.api_url)
        self.app = build_app(self.services, client, await authenticate(client, "xoxb-console"))
        if self.services.watching is not None:
            self.services.watching.start(AsyncWebClient(token="xoxb-console", base_url=self.slack.api_url))

    async def stop(self) -> None:
        await self.slack.stop()

    # -- payloads, as Slack sends them -------------------------------------------------------

    async def command(self, line: str) -> None:
        name, _, text = line.strip().partition(" ")
        body = urlencode({
            "token": "console", "team_id": TEAM, "team_domain": "console", "channel_id": CHANNEL,
            "channel_name": "console", "user_id": USER, "user_name": "you", "command": name,
            "text": text.strip(), "api_app_id": "A0CONSOLE", "is_enterprise_install": "false",
            "response_url": self.slack.response_url(), "trigger_id": uuid.uuid4().hex,
        })
        await self._dispatch(body, "application/x-www-form-urlencoded")

    async def message(self, text: str) -> None:
        """Pasted or typed text: a direct message to the bot."""
        ts = f"{time.time():.6f}"
        body = json.dumps({
            "token": "console", "team_id": TEAM, "api_app_id": "A0CONSOLE",
            "type": "event_callback", "event_id": "Ev" + uuid.uuid4().hex[:10],
            "event_time": int(time.time()),
            "event": {"type": "message", "channel_type": "im", "channel": DM, "user": USER,
                      "text": text, "ts": ts, "event_ts": ts},
        })
        await self._dispatch(body, "application/json")

    async def press(self, label: str) -> bool:
        """Press a button of the last message that had buttons (e.g. "recheck")."""
        for element in self.slack.last_actions:
            if element.get("text", {}).get("text", "").lower() == label.lower():
                payload = {
                    "type": "block_actions", "team": {"id": TEAM}, "user": {"id": USER},
                    "api_app_id": "A0CONSOLE", "channel": {"id": CHANNEL},
                    "container": {"type": "message", "message_ts": "0", "channel_id": CHANNEL},
                    "response_url": self.slack.response_url(), "trigger_id": uuid.uuid4().hex,
                    "actions": [{"action_id": element["action_id"], "block_id": "blcheck_actions",
                                 "value": element.get("value", ""), "type": "button"}],
                }
                await self._dispatch(urlencode({"payload": json.dumps(payload)}),
                                     "application/x-www-form-urlencoded")
                return True
        return False

    async def _dispatch(self, body: str, content_type: str) -> None:
        assert self.app is not None
        request = AsyncBoltRequest(body=body, headers={"content-type": [content_type]})
        response = await self.app.async_dispatch(request)
        if response.status != 200:
            print(f"blcheck: the app answered {response.status}: {response.body}", file=self.out)
        elif response.body:
            try:
                answer = json.loads(response.body)
            except ValueError:
                answer = {"text": response.body}
            self._print("answer", answer)
        await self._settle()

    @staticmethod
    async def _settle() -> None:
        """Wait until the listeners Bolt started in the background are done."""
        deadline = time.monotonic() + SETTLE_LIMIT
        while time.monotonic() < deadline:
            running = [t for t in asyncio.all_tasks() if not t.done()
                       and "run_ack_function_asynchronously" in getattr(t.get_coro(), "__qualname__", "")]
            if not running:
                return
            await asyncio.wait(running, timeout=max(0.0, deadline - time.monotonic()))

    # -- the read loop ---------------------------------------------------------------------

    async def handle(self, text: str) -> bool:
        """One input; False when the user wants to leave."""
        stripped = text.strip()
        if not stripped:
            return True
        if stripped.lower() in ("quit", "exit", "/quit", "/exit"):
            return False
        if stripped.startswith("/"):
            await self.command(stripped)
        elif stripped.lower() in ("help", "?"):
            await self.command("/blcheck help")
        elif "\n" not in stripped and await self.press(stripped.strip("[]")):
            pass
        else:
            await self.message(text)
        return True

    async def run(self, stdin: TextIO = sys.stdin, prompt: bool = True) -> None:
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def reader() -> None:
            for line in stdin:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)

        threading.Thread(target=reader, daemon=True, name="console-input").start()
        while True:
            if prompt:
                print("\n> ", end="", file=self.out, flush=True)
            line = await lines.get()
            if line is None:
                return
            chunk = [line]
            word = line.strip().lower()
            if not word.startswith("/") and word not in CONSOLE_WORDS:
                # A paste arrives as many lines at once: gather them into one message.
                while True:
                    try:
                        more = await asyncio.wait_for(lines.get(), PASTE_GAP)
                    except TimeoutError:
                        break
                    if more is None:
                        lines.put_nowait(None)
                        break
                    chunk.append(more)
            if not await self.handle("".join(chunk)):
                return
