"""Posts the outbox to Slack: in order, about one message a second per channel, retried with
backoff through Slack outages, and never twice.

Each post carries the outbox id in the message metadata. The attempt is recorded before the
post, so if the process dies after Slack accepted a message but before it was marked sent, the
next attempt finds the message in the channel (or thread) and marks it sent instead of posting
it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_errors import slack_error
from bot.watch.store import Outgoing, Store

log = logging.getLogger(__name__)

EVENT_TYPE = "blcheck_outbox"
PERMANENT = {"msg_too_long", "invalid_blocks", "invalid_blocks_format", "no_text", "invalid_arguments",
             "is_archived", "message_not_found", "cant_update_message", "edit_window_closed"}


class Sender:
    def __init__(self, store: Store, client: AsyncWebClient, *, pace: float = 1.0,
                 clock: Callable[[], float] = time.time, max_delay: float = 300.0,
                 lease_s: float = 60.0) -> None:
        self.store = store
        self.max_delay = max_delay  # the longest wait between attempts while Slack is down
        self.lease_s = lease_s  # how long a claimed message is ours (a dead process's expires)
        self.client = client
        self.pace = pace
        self.clock = clock
        self._last_post: dict[str, float] = {}
        self.sent = 0
        self.errors = 0

    async def tick(self) -> int:
        """Send what is due, one message per claim: a lease covers one post, not a batch."""
        done = 0
        for _ in range(50):
            claimed = await self.store.claim_outbox(self.clock(), 1, self.lease_s)
            if not claimed:
                break
            done += await self._send(claimed[0])
        return done

    async def _root(self, m: Outgoing) -> str | None:
        return await self.store.incident_root(m.incident_id) if m.incident_id is not None else None

    async def _send(self, m: Outgoing) -> int:
        now = self.clock()
        root = await self._root(m)
        if m.kind in ("thread", "update") and root is None:
            if m.incident_id is not None and await self.store.root_pending(m.incident_id):
                await self.store.retry_later(m, now + 2, "waiting for the incident's first message")
            else:  # the incident is gone (watch removed) or its first message was refused
                await self.store.drop(m, "no incident message to reply to")
            return 0
        try:
            if m.attempts > 0 and m.kind != "update" and (ts := await self._already_posted(m, root)):
                await self.store.mark_sent(m, ts, self.clock())
                return 1
            if not await self.store.mark_attempt(m, self.clock()):
                return 0  # the lease ran out: another process has it now
            await self._wait_for_pace(m.channel_id)
            body = {"text": m.payload.get("text", ""), "blocks": m.payload.get("blocks")}
            if m.kind == "update" and root is not None:
                response = await self.client.chat_update(channel=m.channel_id, ts=root, **body)
            else:
                response = await self.client.chat_postMessage(
                    channel=m.channel_id, thread_ts=root if m.kind == "thread" else None,
                    metadata={"event_type": EVENT_TYPE, "event_payload": {"id": m.id}}, **body)
            await self.store.mark_sent(m, response.get("ts") or root, self.clock())
            self.sent += 1
            return 1
        except SlackApiError as exc:
            error = slack_error(exc)
            self.errors += 1
            if error in PERMANENT:
                log.error("outbox %s dropped: Slack refused it (%s)", m.id, error)
                await self.store.drop(m, error)
                return 0
            await self._later(m, error)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.errors += 1
            await self._later(m, type(exc).__name__)
        return 0

    async def _later(self, m: Outgoing, error: str) -> None:
        delay = min(self.max_delay, 2.0 ** min(m.attempts + 1, 9))
        log.warning("outbox %s: Slack said %s; retrying in %.0f s", m.id, error, delay)
        await self.store.retry_later(m, self.clock() + delay, error)

    async def _wait_for_pace(self, channel: str) -> None:
        last = self._last_post.get(channel)
        if last is not None and (wait := last + self.pace - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        self._last_post[channel] = time.monotonic()

    async def _already_posted(self, m: Outgoing, root: str | None) -> str | None:
        """The ts of this outbox message if an earlier attempt reached Slack."""
        oldest = f"{m.created_at - 5:.6f}"
        if m.kind == "thread" and root:
            response = await self.client.conversations_replies(
                channel=m.channel_id, ts=root, oldest=oldest, include_all_metadata=True, limit=200)
        else:
            response = await self.client.conversations_history(
                channel=m.channel_id, oldest=oldest, include_all_metadata=True, limit=200)
        for message in response.get("messages") or []:
            meta: dict[str, Any] = message.get("metadata") or {}
            if meta.get("event_type") == EVENT_TYPE and (meta.get("event_payload") or {}).get("id") == m.id:
                return str(message.get("ts"))
        return None

    async def run(self, stop: asyncio.Event, every: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.warning("outbox tick failed; retrying", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
