"""A local Slack stand-in for end-to-end tests: Web API, response_url sinks and Socket Mode on loopback.

The bot under test talks to it through the real slack_sdk / slack-bolt code paths (HTTP, JSON and form
bodies, retry handlers, the Socket Mode websocket), so the tests exercise what production runs, not mocks.
Everything binds 127.0.0.1 on an ephemeral port; nothing leaves the machine.

Strict mode turns Slack's silent or late failures (block limits, a missing fallback `text`, an ack after
3 s, a response payload Slack would drop) into readable entries in `violations`, because in the real
workspace those show up as a blank message or a retry storm rather than as an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import random
import string
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.typedefs import Handler
from slack_sdk.signature import SignatureVerifier

BOT_TOKEN = "xoxb-1-test-bot-token"
APP_TOKEN = "xapp-1-A0TEST-1-test"
SIGNING_SECRET = "test-signing-secret"
TEAM_ID, BOT_USER_ID, BOT_ID = "T0TEST", "U0BOT", "B0BOT"
APP_ID = "A0TEST"
TEAM_DOMAIN = "test"
# The deprecated verification token Slack still puts into every payload; Bolt ignores it.
VERIFICATION_TOKEN = "test-verification-token"

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks and slack_sdk.models.blocks).
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_MARKDOWN_TEXT = 12_000
MAX_BLOCK_ID = 255
# Undocumented: Slack answers msg_blocks_too_long at about this many characters of blocks JSON.
SOFT_MAX_BLOCKS_JSON = 13_000
MAX_MESSAGE_TEXT = 40_000
ACK_DEADLINE = 3.0
# chat.postMessage: about one message per second per channel, short bursts allowed.
CHANNEL_PACE = 1.0
# Slack accepts five posts to one response_url.
RESPONSE_URL_USES = 5

# Params slack_sdk JSON-encodes into a string when it sends a form body.
_JSON_STRING_PARAMS = ("blocks", "attachments", "view", "metadata", "user_auth_blocks", "files")
_MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")


@dataclass
class ApiCall:
    """One Web API request as the stand-in saw it, kept even when it was refused so retries are visible."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 200
    error: str | None = None


@dataclass
class Posted:
    """One POST to a response_url sink."""

    url_id: str
    body: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class _Failure:
    status: int
    remaining: int
    retry_after: int | None
    error: str | None


@dataclass
class _Envelope:
    envelope: dict[str, Any]
    pushed_at: float
    acked: asyncio.Event = field(default_factory=asyncio.Event)


def _random_id(prefix: str, length: int = 10) -> str:
    return prefix + "".join(random.choices(string.ascii_uppercase + string.digits, k=length))


def _trigger_id() -> str:
    return f"{random.randrange(10**12, 10**13)}.{random.randrange(10**12, 10**13)}.{uuid.uuid4().hex}"


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        text = obj.get("text")
        return text if isinstance(text, str) else ""
    return obj if isinstance(obj, str) else ""


def block_problems(blocks: Any, max_blocks: int) -> list[str]:
    """Readable Block Kit problems Slack would answer with invalid_blocks (or render badly)."""
    if not isinstance(blocks, list):
        return [f"blocks is a {type(blocks).__name__}, not a list"]
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks, limit {max_blocks}")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"block {i} has no type")
            continue
        kind = block["type"]
        where = f"block {i} ({kind})"
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if len(block_id) > MAX_BLOCK_ID:
                problems.append(f"{where}: block_id is {len(block_id)} chars, limit {MAX_BLOCK_ID}")
            if block_id in seen_ids:
                problems.append(f"{where}: duplicate block_id {block_id!r}")
            seen_ids.add(block_id)
        if kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                problems.append(f"{where}: needs text or fields")
            if text is not None:
                if not isinstance(text, dict) or text.get("type") not in ("plain_text", "mrkdwn"):
                    problems.append(f"{where}: text must be a plain_text or mrkdwn object")
                n = len(_text_of(text))
                if n > MAX_SECTION_TEXT:
                    problems.append(f"{where}: text is {n} chars, limit {MAX_SECTION_TEXT}")
                elif n == 0:
                    problems.append(f"{where}: text is empty")
            if fields is not None:
                if not isinstance(fields, list):
                    problems.append(f"{where}: fields is not a list")
                else:
                    if len(fields) > MAX_SECTION_FIELDS:
                        problems.append(f"{where}: {len(fields)} fields, limit {MAX_SECTION_FIELDS}")
                    for j, fld in enumerate(fields):
                        n = len(_text_of(fld))
                        if n > MAX_FIELD_TEXT:
                            problems.append(f"{where}: field {j} is {n} chars, limit {MAX_FIELD_TEXT}")
        elif kind == "header":
            text = block.get("text")
            if not isinstance(text, dict) or text.get("type") != "plain_text":
                problems.append(f"{where}: text must be a plain_text object")
            n = len(_text_of(text))
            if n > MAX_HEADER_TEXT:
                problems.append(f"{where}: text is {n} chars, limit {MAX_HEADER_TEXT}")
        elif kind in ("actions", "context"):
            limit = MAX_ACTIONS_ELEMENTS if kind == "actions" else MAX_CONTEXT_ELEMENTS
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                problems.append(f"{where}: needs a non-empty elements list")
            elif len(elements) > limit:
                problems.append(f"{where}: {len(elements)} elements, limit {limit}")
        elif kind == "markdown":
            n = len(_text_of(block))
            if n > MAX_MARKDOWN_TEXT:
                problems.append(f"{where}: text is {n} chars, limit {MAX_MARKDOWN_TEXT}")
    return problems


def message_problems(body: dict[str, Any]) -> list[str]:
    """Problems with a message body (chat.*, a response_url post or an ack payload)."""
    blocks = body.get("blocks")
    if blocks is None:
        return []
    problems = block_problems(blocks, MAX_MESSAGE_BLOCKS)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("blocks without a top-level text fallback (notifications and screen readers)")
    return problems


#: The bot-token scope each Web API method needs (Slack's method reference).
METHOD_SCOPES = {
    "chat.postMessage": "chat:write", "chat.update": "chat:write", "chat.postEphemeral": "chat:write",
    "chat.delete": "chat:write", "users.info": "users:read", "reactions.add": "reactions:write",
    "reactions.remove": "reactions:write", "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write", "files.info": "files:read",
}


def manifest_scopes() -> set[str]:
    import yaml

    manifest = yaml.safe_load((Path(__file__).parent.parent / "manifest.yml").read_text())
    return set(manifest["oauth_config"]["scopes"]["bot"])


class SlackStandIn:
    """Slack's Web API, response_url endpoints and Socket Mode server, on 127.0.0.1."""

    def __init__(self, strict: bool = True, scopes: set[str] | None = None) -> None:
        self.strict = strict
        # The bot token's scopes: what manifest.yml asks for, so a method the manifest forgot
        # fails here as it would in a real workspace (missing_scope).
        self.scopes = manifest_scopes() if scopes is None else scopes
        self.calls: list[ApiCall] = []
        self.posted: list[Posted] = []
        self.rejected: list[Posted] = []
        self.violations: list[str] = []
        # Things real Slack tolerates but a reviewer should know about (pace, soft size limits).
        self.notes: list[str] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.reactions: list[dict[str, str]] = []
        # Per-id overrides merged into conversations.info / users.info answers; is_member False also
        # makes chat.postMessage answer not_in_channel, as Slack does.
        self.channels: dict[str, dict[str, Any]] = {}
        # Messages people posted (not the bot), by channel: what conversations.replies returns.
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.files: dict[str, bytes] = {}
        self.file_downloads = 0
        self.file_denials = 0
        self.users: dict[str, dict[str, Any]] = {}
        # Files the bot uploaded (files_upload_v2): id -> filename, length, data, and where shared.
        self.uploads: dict[str, dict[str, Any]] = {}

        self.ws_connected = asyncio.Event()
        self.connections = 0
        self.pushed: dict[str, dict[str, Any]] = {}
        self.acks: dict[str, dict[str, Any]] = {}
        self.ack_delays: dict[str, float] = {}

        self._failures: dict[str, deque[_Failure]] = {}
        self._envelopes: dict[str, _Envelope] = {}
        self._response_urls: set[str] = set()
        self._last_post_at: dict[str, float] = {}
        self._ts_counter = 0
        self._sockets: set[web.WebSocketResponse] = set()
        self._ws: web.WebSocketResponse | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

        self._methods: dict[str, Callable[[ApiCall], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._connections_open,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.delete": self._delete,
            "views.publish": self._views_publish,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "conversations.info": self._conversations_info,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
            "users.info": self._users_info,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> SlackStandIn:
        app = web.Application(middlewares=[self._crash_guard])
        app.router.add_route("POST", "/api/{method}", self._api)
        app.router.add_route("GET", "/api/{method}", self._api)
        app.router.add_post("/response/{url_id}", self._response_url)
        app.router.add_get("/link", self._link)
        app.router.add_get("/files-pri/{key}/{name}", self._file)
        app.router.add_post("/upload/{file_id}", self._upload)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Close the bot's Socket Mode client before this, or it keeps reconnecting to a closed port."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"stand-in stopping")
        self._sockets.clear()
        self._ws = None
        self.ws_connected.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackStandIn:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base(self) -> str:
        if self._port is None:
            raise RuntimeError("SlackStandIn is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    def new_response_url(self) -> str:
        url_id = uuid.uuid4().hex
        self._response_urls.add(url_id)
        return f"{self.base}/response/{url_id}"

    # -- inspection ----------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def posts_to(self, response_url: str) -> list[Posted]:
        url_id = self._url_id(response_url)
        return [p for p in self.posted if p.url_id == url_id]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The parent (when the bot posted it) and every reply, in posting order."""
        return [m for m in self.messages.get(channel, [])
                if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]

    def fail(self, target: str, status: int, times: int = 1, retry_after: int | None = None,
             error: str | None = None) -> None:
        """Queue failures: the next `times` requests to `target` get `status` instead of being served.

        `target` is a Web API method, "response_url" (every sink), or one full response URL. Calls to
        fail() for the same target queue up in order, so "429 twice, then 500" can be scripted.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        key = target
        if target.startswith(("http://", "https://")):
            key = "response_url:" + self._url_id(target)
        self._failures.setdefault(key, deque()).append(_Failure(status, times, retry_after, error))

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Poll instead of sleeping, so tests are as fast as the bot and still bounded."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return
            if time.monotonic() >= deadline:
                what = self._describe(predicate)
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n" + self.summary())
            await asyncio.sleep(0.02)

    def summary(self) -> str:
        """What the stand-in has seen, for failure messages."""
        calls = ", ".join(c.method + ("" if c.status == 200 and c.error is None else
                                      f"[{c.status}{' ' + c.error if c.error else ''}]")
                          for c in self.calls) or "none"
        lines = [
            f"  Web API calls: {calls}",
            f"  response_url posts: {len(self.posted)} accepted, {len(self.rejected)} rejected",
            f"  websocket: {self.connections} connection(s), connected={self.ws_connected.is_set()}, "
            f"{len(self.pushed)} pushed, {len(self.acks)} acked",
        ]
        if self.violations:
            lines.append("  violations: " + "; ".join(self.violations))
        return "\n".join(lines)

    @staticmethod
    def _describe(predicate: Callable[[], bool]) -> str:
        try:
            return inspect.getsource(predicate).strip()
        except (OSError, TypeError):
            return getattr(predicate, "__qualname__", repr(predicate))

    def _url_id(self, response_url: str) -> str:
        return urlsplit(response_url).path.rstrip("/").rsplit("/", 1)[-1]

    def _violation(self, text: str) -> None:
        if self.strict:
            self.violations.append(text)

    def _take_failure(self, *keys: str) -> _Failure | None:
        for key in keys:
            queue = self._failures.get(key)
            if queue:
                failure = queue[0]
                failure.remaining -= 1
                if failure.remaining <= 0:
                    queue.popleft()
                return failure
        return None

    def _next_ts(self) -> str:
        # One increasing wall clock for bot posts and synthetic user events, as Slack's ts are:
        # sorting by ts tells the order, and conversations.history can honour `oldest`.
        self._ts_counter = max(self._ts_counter + 1, int(time.time() * 1_000_000))
        return f"{self._ts_counter // 1_000_000}.{self._ts_counter % 1_000_000:06d}"

    # -- HTTP plumbing -------------------------------------------------------------------------

    @web.middleware
    async def _crash_guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """A bug in the stand-in must fail the test, not masquerade as a Slack 500."""
        try:
            response = await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            self.violations.append(f"stand-in crashed on {request.method} {request.path}: {exc!r}")
            raise
        return response

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method != "POST" or not request.can_read_body:
            pass  # arguments in the query string only (slack_sdk sends some methods' this way)
        elif request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                self._violation(f"{request.path}: body is not valid JSON")
                return params
            if isinstance(body, dict):
                params.update(body)
            else:
                self._violation(f"{request.path}: JSON body is a {type(body).__name__}, not an object")
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        for key in _JSON_STRING_PARAMS:
            value = params.get(key)
            if isinstance(value, str):
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    self._violation(f"{request.path}: {key} is not valid JSON: {value[:80]!r}")
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._read_params(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        call = ApiCall(method, params, headers, time.monotonic())
        self.calls.append(call)

        auth = headers.get("authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else params.get("token")
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if not token:
            return self._api_error(call, "not_authed")
        if token != expected:
            return self._api_error(call, "invalid_auth")

        failure = self._take_failure(method)
        if failure is not None:
            return self._failure_response(call, failure)

        needed = METHOD_SCOPES.get(method)
        if needed is not None and needed not in self.scopes:
            return self._api_error(call, "missing_scope")
        handler = self._methods.get(method)
        if handler is None:
            self._violation(f"unknown Web API method {method} (the stand-in does not implement it)")
            return self._api_error(call, "unknown_method")
        answer = handler(call)
        if answer.get("ok") is not True:
            call.error = str(answer.get("error"))
        return web.json_response(answer)

    def _api_error(self, call: ApiCall, error: str, status: int = 200) -> web.Response:
        call.status, call.error = status, error
        return web.json_response({"ok": False, "error": error}, status=status)

    def _failure_response(self, call: ApiCall, failure: _Failure) -> web.Response:
        call.status = failure.status
        if failure.status >= 500:
            call.error = failure.error or "internal error"
            return web.Response(status=failure.status, text=call.error, content_type="text/plain")
        if failure.status == 429:
            call.error = failure.error or "ratelimited"
            headers = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
            return web.json_response({"ok": False, "error": call.error}, status=429, headers=headers)
        call.error = failure.error or ("fatal_error" if failure.status == 200 else "invalid_request")
        return web.json_response({"ok": False, "error": call.error}, status=failure.status)

    # -- Web API methods -----------------------------------------------------------------------

    def _auth_test(self, call: ApiCall) -> dict[str, Any]:
        return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "blcheck",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _connections_open(self, call: ApiCall) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self._port}/link"}

    def _check_message(self, call: ApiCall, where: str) -> None:
        number = len(self.calls_to(call.method))
        label = f"{call.method} #{number} ({where})"
        for problem in message_problems(call.params):
            self._violation(f"{label}: {problem}")
        self._note_sizes(label, call.params)

    def _note_sizes(self, label: str, body: dict[str, Any]) -> None:
        blocks = body.get("blocks")
        if isinstance(blocks, list):
            size = len(json.dumps(blocks))
            if size > SOFT_MAX_BLOCKS_JSON:
                self.notes.append(f"{label}: blocks JSON is {size} chars; Slack may answer "
                                  f"msg_blocks_too_long above about {SOFT_MAX_BLOCKS_JSON}")
        text = body.get("text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            self.notes.append(f"{label}: text is {len(text)} chars; Slack truncates above {MAX_MESSAGE_TEXT}")

    def _find_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        for message in self.messages.get(channel, []):
            if message["ts"] == ts:
                return message
        return None

    @staticmethod
    def _public(message: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in message.items() if v is not None and k != "channel"}

    def _post_message(self, call: ApiCall) -> dict[str, Any]:
        p = call.params
        channel = p.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if self.channels.get(channel, {}).get("is_member") is False:
            return {"ok": False, "error": "not_in_channel"}
        if not p.get("text") and not p.get("blocks") and not p.get("attachments"):
            return {"ok": False, "error": "no_text"}
        self._check_message(call, f"channel {channel}")
        now = call.at
        last = self._last_post_at.get(channel)
        if last is not None and now - last < CHANNEL_PACE:
            self.notes.append(f"chat.postMessage to {channel} {now - last:.2f} s after the previous one "
                              f"(Slack allows about one per {CHANNEL_PACE:g} s per channel)")
        self._last_post_at[channel] = now
        message: dict[str, Any] = {
            "type": "message", "channel": channel, "ts": self._next_ts(), "thread_ts": p.get("thread_ts"),
            "text": p.get("text", ""), "blocks": p.get("blocks"), "attachments": p.get("attachments"),
            "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "team": TEAM_ID,
        }
        if p.get("metadata"):
            message["metadata"] = p["metadata"]
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": self._public(message)}

    def _update(self, call: ApiCall) -> dict[str, Any]:
        p = call.params
        channel, ts = p.get("channel"), p.get("ts")
        if not channel or not ts:
            return {"ok": False, "error": "invalid_arguments"}
        message = self._find_message(channel, ts)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        self._check_message(call, f"channel {channel}, ts {ts}")
        for key in ("text", "blocks", "attachments"):
            if key in p:
                message[key] = p[key]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {"ok": True, "channel": channel, "ts": ts, "text": message.get("text", ""),
                "message": self._public(message)}

    def _post_ephemeral(self, call: ApiCall) -> dict[str, Any]:
        p = call.params
        channel, user = p.get("channel"), p.get("user")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not user:
            return {"ok": False, "error": "user_not_found"}
        if not p.get("text") and not p.get("blocks") and not p.get("attachments"):
            return {"ok": False, "error": "no_text"}
        self._check_message(call, f"channel {channel}, user {user}")
        message_ts = self._next_ts()
        self.ephemerals.append({"channel": channel, "user": user, "ts": message_ts,
                                "thread_ts": p.get("thread_ts"), "text": p.get("text", ""),
                                "blocks": p.get("blocks")})
        return {"ok": True, "message_ts": message_ts}

    def _delete(self, call: ApiCall) -> dict[str, Any]:
        channel, ts = call.params.get("channel"), call.params.get("ts")
        message = self._find_message(channel, ts) if channel and ts else None
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        self.messages[message["channel"]].remove(message)
        return {"ok": True, "channel": channel, "ts": ts}

    def _views_publish(self, call: ApiCall) -> dict[str, Any]:
        user_id, view = call.params.get("user_id"), call.params.get("view")
        if not user_id:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        label = f"views.publish #{len(self.calls_to('views.publish'))} (user {user_id})"
        if view.get("type") != "home":
            self._violation(f"{label}: view type is {view.get('type')!r}, views.publish needs 'home'")
        for problem in block_problems(view.get("blocks", []), MAX_VIEW_BLOCKS):
            self._violation(f"{label}: {problem}")
        self.views[user_id] = view
        return {"ok": True, "view": {"id": _random_id("V"), "team_id": TEAM_ID, "app_id": APP_ID, **view}}

    def _reaction_args(self, call: ApiCall) -> dict[str, str] | None:
        p = call.params
        if not p.get("channel") or not p.get("timestamp") or not p.get("name"):
            return None
        return {"channel": str(p["channel"]), "timestamp": str(p["timestamp"]), "name": str(p["name"])}

    def _reactions_add(self, call: ApiCall) -> dict[str, Any]:
        reaction = self._reaction_args(call)
        if reaction is None:
            return {"ok": False, "error": "invalid_arguments"}
        if reaction in self.reactions:
            return {"ok": False, "error": "already_reacted"}
        self.reactions.append(reaction)
        return {"ok": True}

    def _reactions_remove(self, call: ApiCall) -> dict[str, Any]:
        reaction = self._reaction_args(call)
        if reaction is None or reaction not in self.reactions:
            return {"ok": False, "error": "no_reaction"}
        self.reactions.remove(reaction)
        return {"ok": True}

    def _conversations_info(self, call: ApiCall) -> dict[str, Any]:
        channel = call.params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        info = {"id": channel, "name": "general", "is_channel": True, "is_private": False,
                "is_archived": False, "is_member": True}
        return {"ok": True, "channel": {**info, **self.channels.get(channel, {})}}

    def _conversations_replies(self, call: ApiCall) -> dict[str, Any]:
        """Thread messages: the ones the bot posted plus any a test seeded in `history`."""
        channel, ts = call.params.get("channel"), call.params.get("ts")
        seeded = [m for m in self.history.get(str(channel), []) if m["ts"] == ts or m.get("thread_ts") == ts]
        posted = [m for m in self.messages.get(str(channel), []) if m.get("thread_ts") == ts]
        found = sorted(seeded + posted, key=lambda m: m["ts"])
        if not found:
            return {"ok": False, "error": "thread_not_found"}
        limit = int(call.params.get("limit") or 1000)
        return {"ok": True, "messages": found[:limit], "has_more": len(found) > limit}

    def _conversations_history(self, call: ApiCall) -> dict[str, Any]:
        """Top-level messages of a channel, newest first, as Slack returns them."""
        channel = str(call.params.get("channel"))
        oldest = float(call.params.get("oldest") or 0)
        found = [m for m in self.history.get(channel, []) + self.messages.get(channel, [])
                 if (not m.get("thread_ts") or m.get("thread_ts") == m["ts"]) and float(m["ts"]) >= oldest]
        return {"ok": True, "messages": sorted(found, key=lambda m: m["ts"], reverse=True),
                "has_more": False}

    def add_file(self, content: bytes, name: str = "bounce.eml", mimetype: str = "message/rfc822",
                 size: int | None = None) -> dict[str, Any]:
        """A file as Slack describes it in events; its url_private needs the bot token."""
        file_id = _random_id("F")
        self.files[file_id] = content
        url = f"{self.base}/files-pri/{TEAM_ID}-{file_id}/{name}"
        return {"id": file_id, "name": name, "title": name, "mimetype": mimetype,
                "filetype": name.rsplit(".", 1)[-1], "size": len(content) if size is None else size,
                "url_private": url, "url_private_download": url + "?download=1"}

    async def _file(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            self.file_denials += 1
            return web.Response(status=302, headers={"Location": self.base + "/signin"})
        file_id = request.match_info["key"].rsplit("-", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        self.file_downloads += 1
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    # -- file uploads: getUploadURLExternal, the upload itself, completeUploadExternal ----------

    def _upload_url(self, call: ApiCall) -> dict[str, Any]:
        p = call.params
        if not p.get("filename") or not str(p.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        self.uploads[file_id] = {"filename": p["filename"], "length": int(p["length"]), "data": None,
                                 "alt_txt": p.get("alt_txt")}
        return {"ok": True, "file_id": file_id, "upload_url": f"http://127.0.0.1:{self._port}/upload/{file_id}"}

    async def _upload(self, request: web.Request) -> web.Response:
        entry = self.uploads.get(request.match_info["file_id"])
        if entry is None:
            return web.Response(status=404, text="unknown upload")
        data = await request.read()
        if len(data) != entry["length"]:
            self._violation(f"upload {request.match_info['file_id']}: {len(data)} bytes, "
                            f"announced {entry['length']}")
        entry["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    def _complete_upload(self, call: ApiCall) -> dict[str, Any]:
        p = call.params
        files = p.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        channel = p.get("channel_id")
        if channel and self.channels.get(channel, {}).get("is_member") is False:
            return {"ok": False, "error": "not_in_channel"}
        shared = []
        for f in files:
            entry = self.uploads.get(f.get("id", ""))
            if entry is None or entry["data"] is None:
                return {"ok": False, "error": "file_upload_not_completed"}
            entry.update(title=f.get("title"), channel=channel, thread_ts=p.get("thread_ts"),
                         initial_comment=p.get("initial_comment"))
            shared.append({"id": f["id"], "name": entry["filename"], "title": f.get("title"),
                           "size": len(entry["data"])})
        if channel:
            self.messages.setdefault(channel, []).append({
                "type": "message", "channel": channel, "ts": self._next_ts(), "thread_ts": p.get("thread_ts"),
                "text": p.get("initial_comment") or "", "files": shared, "user": BOT_USER_ID})
        return {"ok": True, "files": shared}

    def _users_info(self, call: ApiCall) -> dict[str, Any]:
        user = call.params.get("user")
        if not user:
            return {"ok": False, "error": "user_not_found"}
        info = {"id": user, "team_id": TEAM_ID, "name": user.lower(), "real_name": f"User {user}",
                "is_bot": user == BOT_USER_ID, "deleted": False, "locale": "en-US", "tz": "UTC",
                "tz_offset": 0}
        info.update(self.users.get(user, {}))
        if str(call.params.get("include_locale", "")).lower() not in ("1", "true"):
            info.pop("locale", None)  # as Slack: the locale only when asked for
        return {"ok": True, "user": info}

    # -- response_url --------------------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        url_id = request.match_info["url_id"]
        now = time.monotonic()
        label = f"response_url {url_id[:8]}"
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._violation(f"{label}: body is not a JSON object")
            self.rejected.append(Posted(url_id, {}, now, 400))
            return web.Response(status=400, text="invalid_payload", content_type="text/plain")

        failure = self._take_failure("response_url:" + url_id, "response_url")
        if failure is not None:
            default = {429: "rate_limited"}.get(failure.status, "internal error")
            self.rejected.append(Posted(url_id, body, now, failure.status))
            headers = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
            return web.Response(status=failure.status, text=failure.error or default,
                                content_type="text/plain", headers=headers)

        if len(self.posts_to(url_id)) >= RESPONSE_URL_USES:
            self._violation(f"{label}: more than {RESPONSE_URL_USES} posts to one response_url")
            self.rejected.append(Posted(url_id, body, now, 404))
            return web.Response(status=404, text="used_url", content_type="text/plain")

        response_type = body.get("response_type")
        if response_type is not None and response_type not in ("ephemeral", "in_channel"):
            self._violation(f"{label}: response_type {response_type!r} is neither ephemeral nor in_channel")
        for problem in message_problems(body):
            self._violation(f"{label}: {problem}")
        self._note_sizes(label, body)
        self.posted.append(Posted(url_id, body, now))
        return web.Response(text="ok", content_type="text/plain")

    # -- Socket Mode ---------------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections += 1
        self._sockets.add(ws)
        self._ws = ws  # the newest connection gets the envelopes, as after a Slack refresh
        await ws.send_json({
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {"host": "applink-stand-in", "build_number": 1,
                           "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        })
        self.ws_connected.set()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_client_message(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self._violation("Socket Mode client sent a binary frame")
        finally:
            self._sockets.discard(ws)
            if self._ws is ws:
                self._ws = None
                self.ws_connected.clear()
        return ws

    def _on_client_message(self, data: str) -> None:
        now = time.monotonic()
        try:
            message = json.loads(data)
        except ValueError:
            self._violation(f"Socket Mode client sent non-JSON text: {data[:80]!r}")
            return
        if not isinstance(message, dict) or not isinstance(message.get("envelope_id"), str):
            self._violation(f"Socket Mode client sent a message without envelope_id: {data[:80]!r}")
            return
        envelope_id = message["envelope_id"]
        pushed = self._envelopes.get(envelope_id)
        if pushed is None:
            self._violation(f"ack for unknown envelope {envelope_id}")
            return
        kind = pushed.envelope["type"]
        if envelope_id in self.acks:
            self._violation(f"second ack for envelope {envelope_id} ({kind})")
            return
        delay = now - pushed.pushed_at
        self.acks[envelope_id] = message
        self.ack_delays[envelope_id] = delay
        if delay > ACK_DEADLINE:
            self._violation(f"envelope {envelope_id} ({kind}) acked after {delay:.2f} s; "
                            f"Slack retries after {ACK_DEADLINE:g} s")
        payload = message.get("payload")
        if payload is not None:
            label = f"ack payload for {kind} envelope {envelope_id}"
            if not pushed.envelope["accepts_response_payload"]:
                self._violation(f"{label}: Slack ignores it (accepts_response_payload is false)")
            elif not isinstance(payload, dict):
                self._violation(f"{label}: not a JSON object")
            else:
                for problem in message_problems(payload):
                    self._violation(f"{label}: {problem}")
        pushed.acked.set()

    @staticmethod
    def _accepts_response_payload(type_: str, payload: dict[str, Any]) -> bool:
        # What Slack sends: slash commands and view submissions / option loads can be answered in the
        # ack; events, buttons and shortcuts cannot.
        if type_ == "slash_commands":
            return True
        return type_ == "interactive" and payload.get("type") in ("view_submission", "block_suggestion")

    async def push(self, type_: str, payload: dict[str, Any], retry_attempt: int = 0, retry_reason: str = "",
                   accepts_response_payload: bool | None = None) -> str:
        """Send an envelope on the newest websocket; None for accepts_response_payload means Slack's own."""
        ws = self._ws
        if ws is None or ws.closed:
            try:
                await asyncio.wait_for(self.ws_connected.wait(), timeout=5.0)
            except TimeoutError:
                raise AssertionError("push(): no Socket Mode client connected within 5 s\n"
                                     + self.summary()) from None
            ws = self._ws
            assert ws is not None
        if accepts_response_payload is None:
            accepts_response_payload = self._accepts_response_payload(type_, payload)
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id, "type": type_, "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt, "retry_reason": retry_reason,
        }
        # Registered before sending: the ack can arrive while send_json is still awaiting.
        self.pushed[envelope_id] = envelope
        self._envelopes[envelope_id] = _Envelope(envelope, time.monotonic())
        await ws.send_json(envelope)
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = ACK_DEADLINE) -> dict[str, Any]:
        pushed = self._envelopes.get(envelope_id)
        if pushed is None:
            raise AssertionError(f"wait_ack(): envelope {envelope_id} was never pushed")
        try:
            await asyncio.wait_for(pushed.acked.wait(), timeout=timeout)
        except TimeoutError:
            raise AssertionError(
                f"envelope {envelope_id} ({pushed.envelope['type']}) not acked within {timeout:g} s "
                "(Bolt sends no ack when no listener matched or a listener raised before ack())\n"
                + self.summary()) from None
        return self.acks[envelope_id]

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect, as Slack does every few hours or before a deploy."""
        ws = self._ws
        if ws is None or ws.closed:
            raise AssertionError("disconnect(): no Socket Mode client connected")
        # Cleared first, so `await ws_connected.wait()` afterwards waits for the replacement.
        self._ws = None
        self.ws_connected.clear()
        await ws.send_json({"type": "disconnect", "reason": reason,
                            "debug_info": {"host": "applink-stand-in"}})

    async def drop(self) -> None:
        """Close the websocket without a disconnect message, like a network failure."""
        ws = self._ws
        self._ws = None
        self.ws_connected.clear()
        if ws is not None:
            with contextlib.suppress(ConnectionError):
                await ws.close(code=WSCloseCode.GOING_AWAY)

    # -- payload builders ----------------------------------------------------------------------

    def command_payload(self, text: str, command: str = "/blcheck", user_id: str = "U0USER",
                        channel_id: str = "C0CHAN", channel_name: str = "general",
                        response_url: str | None = None) -> tuple[dict[str, Any], str]:
        url = response_url or self.new_response_url()
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": url,
            "trigger_id": _trigger_id(),
        }
        return payload, url

    def command_body(self, text: str, command: str = "/blcheck", user_id: str = "U0USER",
                     channel_id: str = "C0CHAN", channel_name: str = "general",
                     response_url: str | None = None) -> tuple[str, str]:
        payload, url = self.command_payload(text, command, user_id, channel_id, channel_name, response_url)
        return urlencode(payload), url

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        event = dict(event)
        event.setdefault("event_ts", event.get("ts") or self._next_ts())
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "context_team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or _random_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                                "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        }

    def mention_event(self, text: str, channel: str = "C0CHAN", user: str = "U0USER",
                      ts: str | None = None, thread_ts: str | None = None) -> dict[str, Any]:
        """An app_mention event; `text` should contain f"<@{BOT_USER_ID}>" as Slack's would."""
        ts = ts or self._next_ts()
        event: dict[str, Any] = {"type": "app_mention", "user": user, "text": text, "ts": ts,
                                 "channel": channel, "team": TEAM_ID, "event_ts": ts,
                                 "client_msg_id": str(uuid.uuid4())}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return event

    def action_payload(self, action_id: str, value: str, channel_id: str = "C0CHAN", user_id: str = "U0USER",
                       message_ts: str = "1700000000.000100",
                       response_url: str | None = None) -> tuple[dict[str, Any], str]:
        """A button click on a bot message; uses the stored message when the bot posted it."""
        url = response_url or self.new_response_url()
        message = self._find_message(channel_id, message_ts)
        if message is None:
            # Seed it, so a chat.update on the clicked message finds it as in Slack.
            message = {"type": "message", "channel": channel_id, "ts": message_ts, "thread_ts": None,
                       "text": "", "blocks": None, "attachments": None, "user": BOT_USER_ID, "bot_id": BOT_ID,
                       "app_id": APP_ID, "team": TEAM_ID}
            self.messages.setdefault(channel_id, []).insert(0, message)
        block_id, button_text = _random_id("b", 5), value
        for block in message.get("blocks") or []:
            for element in block.get("elements", []) if isinstance(block, dict) else []:
                if isinstance(element, dict) and element.get("action_id") == action_id:
                    block_id = block.get("block_id", block_id)
                    button_text = _text_of(element.get("text")) or button_text
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                          "is_ephemeral": False},
            "trigger_id": _trigger_id(),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": "general"},
            "message": self._public(message),
            "state": {"values": {}},
            "response_url": url,
            "actions": [{
                "action_id": action_id, "block_id": block_id, "value": value, "type": "button",
                "text": {"type": "plain_text", "text": button_text, "emoji": True},
                "action_ts": self._next_ts(),
            }],
        }
        return payload, url

    @staticmethod
    def interactive_body(payload: dict[str, Any]) -> str:
        """The form body Slack POSTs for interactivity in HTTP mode: payload=<JSON>."""
        return urlencode({"payload": json.dumps(payload)})

    def signed_headers(self, body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET,
                       content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body) or ""
        return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
