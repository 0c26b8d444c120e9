"""Mentions, direct messages and passive channels.

A mention or a DM is read as a bounce first (pasted text or a shared .eml/.txt), then as
addresses to check; a mention with nothing in it, inside a thread, diagnoses the thread's first
message. Slash commands cannot be used in threads, so this is how a thread asks. In a channel
that opted in to passive mode, any message that is a bounce gets a diagnosis; anything else is
left alone.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.i18n import Messages
from bot.render.blocks import Message, notice_message
from bot.services import Services
from bot.slack_errors import slack_error
from handlers.bounces import diagnose_all, diagnosis_reply, fetch_files, post_in_thread, thread_root
from handlers.checks import Answer, parse_request

log = logging.getLogger(__name__)


async def _check_targets(services: Services, client: AsyncWebClient, t: Messages, channel: str,
                         thread_ts: str | None, text: str) -> bool:
    """Check the addresses in `text` in the thread; False when there are none."""
    request = parse_request(t, text, lenient=True)
    if not request.targets:
        if request.problem and not request.wants_help:
            await post_in_thread(client, channel, thread_ts,
                                 notice_message(f"{request.problem}\n{t('mention.help')}"))
            return True
        return False
    answer = Answer(services, t, request)
    posted = await client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                           **(await answer.first()).payload())
    if answer.complete:
        return True
    ts = posted["ts"]

    async def show(message: Message) -> None:
        await client.chat_update(channel=channel, ts=ts, **message.payload())

    await answer.follow_up(show, time.monotonic())
    return True


async def answer_in_thread(services: Services, client: AsyncWebClient, t: Messages,
                           event: dict[str, Any], threaded: bool = True) -> None:
    channel = event["channel"]
    thread_ts = event.get("thread_ts") or (event["ts"] if threaded else None)
    text = event.get("text") or ""
    files = event.get("files") or []
    try:
        contents, problems = await fetch_files(services, client.token, files, t)
        result = diagnose_all(text, contents)
        if result.is_bounce:
            result.notes.extend(problems)
            await post_in_thread(client, channel, thread_ts, await diagnosis_reply(services, t, result))
            return
        if await _check_targets(services, client, t, channel, thread_ts, text):
            return
        if files:
            note = "\n".join(problems) or t("diag.not_a_bounce")
            await post_in_thread(client, channel, thread_ts, notice_message(note))
            return
        if event.get("thread_ts") and event.get("thread_ts") != event.get("ts"):
            root = await thread_root(client, channel, event["thread_ts"])
            if root is not None:
                root_files, root_problems = await fetch_files(services, client.token,
                                                              root.get("files") or [], t)
                result = diagnose_all(root.get("text") or "", root_files)
                result.notes.extend(root_problems)
                await post_in_thread(client, channel, thread_ts,
                                     await diagnosis_reply(services, t, result))
                return
        await post_in_thread(client, channel, thread_ts, notice_message(t("mention.help")))
    except SlackApiError as exc:
        # not_in_channel and the like: nothing can be posted there, so say it in the log.
        log.warning("could not answer in %s: %s", channel, slack_error(exc))


async def passive_diagnosis(services: Services, client: AsyncWebClient, t: Messages,
                            event: dict[str, Any]) -> None:
    """A channel in passive mode: diagnose bounces, stay silent about anything else."""
    contents, _ = await fetch_files(services, client.token, event.get("files") or [], t)
    result = diagnose_all(event.get("text") or "", contents)
    if not result.is_bounce:
        return
    try:
        await post_in_thread(client, event["channel"], event.get("thread_ts") or event["ts"],
                             await diagnosis_reply(services, t, result))
    except SlackApiError as exc:
        log.warning("could not answer in %s: %s", event["channel"], slack_error(exc))


def _from_a_person(event: dict[str, Any]) -> bool:
    return not event.get("bot_id") and event.get("subtype") in (None, "file_share", "thread_broadcast")


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_mention")
    async def mentioned(event: dict[str, Any], client: AsyncWebClient,
                        context: AsyncBoltContext) -> None:
        await answer_in_thread(services, client, context["t"], event)

    @app.event("message")
    async def message(event: dict[str, Any], client: AsyncWebClient,
                      context: AsyncBoltContext) -> None:
        if not _from_a_person(event):
            return
        if event.get("channel_type") == "im":
            await answer_in_thread(services, client, context["t"], event,
                                   threaded=bool(event.get("thread_ts")))
            return
        bot_user = context.get("bot_user_id") or ""
        if bot_user and f"<@{bot_user}>" in (event.get("text") or ""):
            return  # the app_mention event answers it
        if services.channels.passive(event.get("channel", "")):
            await passive_diagnosis(services, client, context["t"], event)
