"""`/blwatch`, the *Watch* button on results, the alert buttons, and `/blcheck history`."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import TargetError
from bot.i18n import Messages
from bot.render.alerts import ACTION_MUTE, ACTION_RECHECK_WATCH
from bot.render.blocks import ACTION_WATCH, Message, _Builder, notice_message
from bot.render.mrkdwn import code, escape
from bot.render.timeline import Event, timeline_png
from bot.services import Services
from bot.targets import parse_targets
from bot.watch.scheduler import USER_FLOOR
from bot.watch.store import Watch
from handlers.actions import asked_of
from handlers.checks import slack_text
from handlers.home import publish_home, watch_state

log = logging.getLogger(__name__)
DB_TIMEOUT = 2.5  # seconds: the answer must beat Slack's 3-second acknowledgement limit

_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{2,30})(?:\|[^>]*)?>$")
_DURATION = re.compile(r"^(\d{1,4})([mhd])$")
_UNIT = {"m": 60, "h": 3600, "d": 86400}


def duration(word: str) -> int | None:
    m = _DURATION.match(word.lower())
    return int(m.group(1)) * _UNIT[m.group(2)] if m else None


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def lines_message(title: str, lines: list[str]) -> Message:
    """A title and bullet lines (already mrkdwn), split over sections within Block Kit limits."""
    b = _Builder()
    b.sections(f"*{escape(title)}*", lines)
    return Message(text=escape(title), blocks=b.dicts())


async def add(services: Services, t: Messages, team: str, channel: str, user: str,
              words: list[str]) -> Message:
    watching = services.watching
    assert watching is not None
    interval = watching.interval
    if "every" in words and (i := words.index("every")) + 1 < len(words):
        asked = duration(words[i + 1])
        if asked is not None:
            interval = max(asked, USER_FLOOR)
        del words[i:i + 2]
    if words and (m := _CHANNEL.match(words[-1])):
        channel = m.group(1)
        words = words[:-1]
    try:
        targets, errors = parse_targets([slack_text(w).strip() for w in words if w.strip()],
                                        max_range=watching.max_range)
    except TargetError as exc:
        return notice_message(exc.text.render(t), "error")
    refused = [t("watch.email_refused", target=tg.text) for tg in targets if tg.kind == "email"]
    targets = [tg for tg in targets if tg.kind != "email"]
    if not targets:
        problem = "; ".join([*(e.text.render(t) for e in errors), *refused]) or t("watch.usage")
        return notice_message(problem, "error")
    count = await watching.store.count_watches(team)
    if count + len(targets) > watching.limit:
        return notice_message(t("watch.limit", count=count, limit=watching.limit), "error")
    now = time.time()
    created: list[str] = []
    existing: list[str] = []
    for target in targets:
        _, new = await watching.store.add_watch(team, channel, target.text, user, interval, now)
        (created if new else existing).append(target.text)
    parts = []
    if created:
        parts.append(t("watch.added", targets=", ".join(created), minutes=max(1, interval // 60)))
    parts.extend(t("watch.exists", target=x) for x in existing)
    parts.extend([*(e.text.render(t) for e in errors), *refused])
    return notice_message("\n".join(parts))


async def blwatch(services: Services, t: Messages, command: dict[str, Any]) -> Message:
    if services.watching is None:
        return notice_message(t("watch.no_database"), "error")
    store = services.watching.store
    team, channel = command.get("team_id", ""), command.get("channel_id", "")
    words = command.get("text", "").split()
    verb = words[0].lower() if words else ""
    rest = words[1:]
    if verb == "add" and rest:
        return await add(services, t, team, channel, command.get("user_id", ""), rest)
    if verb in ("remove", "rm", "delete") and rest:
        gone = [x for x in rest if await store.remove_watch(team, channel, slack_text(x).strip())]
        missing = [x for x in rest if x not in gone]
        text = "\n".join([*(t("watch.removed", target=x) for x in gone),
                          *(t("watch.not_found", target=x) for x in missing)])
        return notice_message(text)
    if verb == "list":
        watches = await store.watches(team, channel)
        if not watches:
            return notice_message(t("watch.none"))
        lines = []
        for wt in watches:
            open_ = await store.listings(wt.id)
            state = watch_state(t, wt, len(open_))
            muted = ""
            if wt.muted_until is not None and wt.muted(time.time()):
                muted = " · " + t("watch.muted_until", when=_when(wt.muted_until))
            last = " · " + t("watch.checked", when=_when(wt.last_checked_at)) if wt.last_checked_at else ""
            lines.append(f"• {code(wt.target)} {state}{last}{muted}")
        return lines_message(t("watch.list_title"), lines)
    if verb in ("mute", "unmute") and rest:
        target = slack_text(rest[0]).strip()
        until = None
        if verb == "mute":
            asked = duration(rest[1]) if len(rest) > 1 else None
            until = time.time() + (asked or 86400)
        if not await store.set_mute(team, channel, target, until):
            return notice_message(t("watch.not_found", target=target))
        if until is None:
            return notice_message(t("watch.unmuted", target=target))
        return notice_message(t("watch.muted", target=target, until=_when(until)))
    return notice_message(t("watch.usage"))


async def _history_watch(services: Services, command: dict[str, Any], words: list[str]) -> Watch | None:
    assert services.watching is not None
    target = slack_text(words[0]).strip()
    return await services.watching.store.find_watch(command.get("team_id", ""),
                                                    command.get("channel_id", ""), target)


async def history(services: Services, t: Messages, command: dict[str, Any], words: list[str]) -> Message:
    if services.watching is None:
        return notice_message(t("watch.no_database"), "error")
    if not words:
        return notice_message(t("watch.usage"))
    watch = await _history_watch(services, command, words)
    if watch is None:
        return notice_message(t("history.not_watched", target=slack_text(words[0]).strip()))
    events = await services.watching.store.history(watch.id)
    if not events:
        return notice_message(t("history.none", target=watch.target, since=_when(watch.created_at)))
    names = {bl.id: bl.name for bl in services.catalog}
    lines = [f"• {_when(e.at)} UTC  " + t(f"history.{e.kind}", address=code(e.address),
                                            list=escape(names.get(e.list_id, e.list_id)))
             + (f" {code(e.codes)}" if e.codes and e.kind == "listed" else "") for e in events]
    return lines_message(t("history.title", target=watch.target), lines)


async def timeline(services: Services, command: dict[str, Any], words: list[str],
                   now: float) -> tuple[Watch, bytes, dict[str, list[tuple[float, float]]]] | None:
    """The watch's 90-day picture (PNG) and its spans per list; None when there is nothing
    to draw (not watched here, or no listing ever)."""
    if services.watching is None or not words:
        return None
    watch = await _history_watch(services, command, words)
    if watch is None:
        return None
    rows = await services.watching.store.history(watch.id)
    if not rows:
        return None
    events = [Event(r.at, r.address, r.list_id, r.kind) for r in rows]
    names = {bl.id: bl.name for bl in services.catalog}
    png, spans = await asyncio.to_thread(timeline_png, watch.target, events, names, now)
    return watch, png, spans


async def guarded(t: Messages, work: Awaitable[Message]) -> Message:
    """A database that is down or restarting gets a plain sentence, not a timeout."""
    try:
        return await asyncio.wait_for(work, DB_TIMEOUT)
    except (SQLAlchemyError, OSError, TimeoutError):
        log.warning("watch command failed: the database is not available", exc_info=True)
        return notice_message(t("watch.no_database"), "error")


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/blwatch")
    async def blwatch_command(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
        t = context["t"]
        message = await guarded(t, blwatch(services, t, command))
        await ack(response_type="ephemeral", **message.payload())

    @app.action(ACTION_WATCH)
    async def watch_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                           respond: AsyncRespond, context: AsyncBoltContext) -> None:
        await ack()
        t = context["t"]
        if services.watching is None:
            message = notice_message(t("watch.no_database"), "error")
        else:
            team = (body.get("team") or {}).get("id", "")
            channel = (body.get("channel") or {}).get("id", "")
            user = (body.get("user") or {}).get("id", "")
            message = await guarded(t, add(services, t, team, channel, user,
                                           (asked_of(action) or "").split()))
        await respond(response_type="ephemeral", replace_original=False, **message.payload())

    @app.action(ACTION_MUTE)
    async def mute_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond,
                          client: AsyncWebClient, context: AsyncBoltContext) -> None:
        await ack()
        await _on_watch(services, context["t"], body, action, respond, client, mute=True)

    @app.action(ACTION_RECHECK_WATCH)
    async def recheck_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                             respond: AsyncRespond, client: AsyncWebClient,
                             context: AsyncBoltContext) -> None:
        await ack()
        await _on_watch(services, context["t"], body, action, respond, client, mute=False)


async def _on_watch(services: Services, t: Messages, body: dict[str, Any], action: dict[str, Any],
                    respond: AsyncRespond, client: AsyncWebClient, mute: bool) -> None:
    """Alert and App Home buttons: idempotent (muting twice mutes until the same kind of time).
    From App Home (no response_url) the tab is published again instead of answering."""
    if services.watching is None:
        return
    from_home = (body.get("view") or {}).get("type") == "home"
    try:
        watch_id = int(json.loads(action.get("value") or "{}").get("w"))
    except (ValueError, TypeError, AttributeError):
        if not from_home:
            await respond(response_type="ephemeral", replace_original=False,
                          **notice_message(t("error.bad_button"), "error").payload())
        return
    store = services.watching.store
    wt = await store.watch(watch_id)
    if wt is None:
        return
    if mute:
        until = time.time() + 86400
        await store.set_mute(wt.team_id, wt.channel_id, wt.target, until)
        text = t("watch.muted", target=wt.target, until=_when(until))
    else:
        await store.check_now(wt.id, time.time())
        text = t("watch.recheck", target=wt.target)
    if from_home:
        user = (body.get("user") or {}).get("id", "")
        await publish_home(services, client, t, user, wt.team_id)
        return
    await respond(response_type="ephemeral", replace_original=False, **notice_message(text).payload())
