"""Cross-cutting concerns as small Bolt middleware: answering Slack's retries once, replies that
survive Slack's rate limits, and the user's message catalog (their Slack language) in the context."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.i18n import messages

log = logging.getLogger(__name__)

Next = Callable[[], Awaitable[Any]]


def retry_handlers() -> list[AsyncRetryHandler]:
    """Network errors, 429 (after Retry-After) and 5xx are retried a few times: a busy Slack
    delays an answer, it does not lose it."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


class EventDeduper:
    """Event ids already received, kept longer than Slack's retry span (about 6 minutes).

    An id is marked on receipt, before any work, so a retry that arrives while the first
    delivery is still being handled is dropped too."""

    def __init__(self, ttl: float = 900.0, max_size: int = 100_000) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        now = time.monotonic()
        while self._seen and (next(iter(self._seen.values())) < now - self.ttl
                              or len(self._seen) >= self.max_size):
            self._seen.popitem(last=False)
        if event_id in self._seen:
            return False
        self._seen[event_id] = now
        return True


class RetryingRespond(AsyncRespond):
    """Bolt's `respond()` with retry handlers: Bolt's own sends once and gives up on a 429."""

    async def __call__(  # type: ignore[override]
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any]] | None = None,
        attachments: Sequence[dict[str, Any]] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        client = AsyncWebhookClient(url=self.response_url, proxy=self.proxy, ssl=self.ssl,
                                    retry_handlers=retry_handlers())
        if isinstance(text, dict):
            message = _build_message(**text)
        else:
            message = _build_message(
                text=text, blocks=blocks, attachments=attachments, response_type=response_type,
                replace_original=replace_original, delete_original=delete_original,
                unfurl_links=unfurl_links, unfurl_media=unfurl_media, thread_ts=thread_ts,
                metadata=metadata)
        response = await client.send_dict(message)
        if response.status_code != 200:
            log.warning("response_url answered %s: %s", response.status_code, response.body[:200])
        return response


def malformed(body: Any) -> str | None:
    """Why a body is not something Slack sends, or None. Bolt builds every listener argument
    from the body up front and fails with a 500 on, say, a button payload with no actions."""
    if not isinstance(body, dict) or not body:
        return "not a JSON object or form"
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event_callback without an event"
    elif kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return "block_actions without actions"
    elif kind in ("message_action", "shortcut") and not isinstance(body.get("callback_id"), str):
        return "shortcut without a callback_id"
    elif "command" in body and not isinstance(body.get("command"), str):
        return "command is not text"
    return None


class RejectMalformed(AsyncMiddleware):
    """Answers 400 to a body that is not one of Slack's payload shapes (class-based, so Bolt
    does not build listener arguments from the broken body first)."""

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse,
                            next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse | None:
        why = malformed(req.body)
        if why is not None:
            log.warning("malformed Slack payload: %s", why)
            return BoltResponse(status=400, body={"error": f"malformed payload: {why}"})
        return await next()


class UserLanguages:
    """Each user's Slack language (users.info with include_locale), remembered for an hour.

    Slack sends no locale with commands or events, so it is asked once per user; an answer that
    fails or comes late (a missing users:read scope, Slack down) means the workspace default
    (BLCHECK_LANG), never a delayed acknowledgement."""

    def __init__(self, default: str | None, ttl: float = 3600.0, max_size: int = 10_000,
                 timeout: float = 0.5) -> None:  # before the ack: Slack allows 3 s in all
        self.default = default
        self.ttl = ttl
        self.max_size = max_size
        self.timeout = timeout
        self._known: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

    async def of(self, client: AsyncWebClient | None, user: str | None) -> str | None:
        if not user or client is None:
            return self.default
        now = time.monotonic()
        hit = self._known.get(user)
        if hit is not None and hit[0] > now:
            return hit[1] or self.default
        locale: str | None = None
        try:
            answer = await asyncio.wait_for(client.users_info(user=user, include_locale=True), self.timeout)
            found = (answer.get("user") or {}).get("locale")
            locale = found if isinstance(found, str) and found else None
        except Exception as exc:  # the default language is a fine answer
            log.info("no Slack locale for %s (%s); using the default language", user, exc)
        self._known[user] = (now + self.ttl, locale)
        self._known.move_to_end(user)
        while len(self._known) > self.max_size:
            self._known.popitem(last=False)
        return locale or self.default


def install(app: AsyncApp, lang: str | None, deduper: EventDeduper | None = None) -> None:
    """Add blcheck's middleware to `app`, in the order they must run."""
    deduper = deduper or EventDeduper()
    app.use(RejectMalformed())

    @app.middleware
    async def answer_retries_once(body: dict[str, Any], next: Next) -> BoltResponse | None:
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not deduper.first_time(event_id):
            log.info("event %s delivered again; already handled", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None

    languages = UserLanguages(lang)

    @app.middleware
    async def context_helpers(context: AsyncBoltContext, next: Next) -> None:
        if context.response_url:
            context["respond"] = RetryingRespond(response_url=context.response_url)
        context["t"] = messages(await languages.of(context.client, context.user_id))
        await next()
