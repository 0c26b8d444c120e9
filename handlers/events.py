"""Mentions and direct messages: the bot checks the addresses in them and answers in the thread
(slash commands cannot be used in threads, so this is how a thread asks)."""

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
from handlers.checks import Answer, parse_request

log = logging.getLogger(__name__)


async def answer_in_thread(services: Services, client: AsyncWebClient, t: Messages,
                           event: dict[str, Any], threaded: bool = True) -> None:
    channel = event["channel"]
    thread_ts = event.get("thread_ts") or (event["ts"] if threaded else None)
    request = parse_request(event.get("text", ""), lenient=True)
    try:
        if not request.targets:
            text = t("mention.help") if request.wants_help else f"{request.problem}\n{t('mention.help')}"
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                          **notice_message(text).payload())
            return
        answer = Answer(services, t, request)
        posted = await client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                               **(await answer.first()).payload())
        if answer.complete:
            return
        ts = posted["ts"]

        async def show(message: Message) -> None:
            await client.chat_update(channel=channel, ts=ts, **message.payload())

        await answer.follow_up(show, time.monotonic())
    except SlackApiError as exc:
        # not_in_channel and the like: nothing can be posted there, so say it in the log.
        log.warning("could not answer in %s: %s", channel, exc.response.get("error"))


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_mention")
    async def mentioned(event: dict[str, Any], client: AsyncWebClient,
                        context: AsyncBoltContext) -> None:
        await answer_in_thread(services, client, context["t"], event)

    @app.event("message")
    async def message(event: dict[str, Any], client: AsyncWebClient,
                      context: AsyncBoltContext) -> None:
        # Only direct messages to the bot, written by a person. Channel messages are for the
        # passive bounce diagnosis a channel opts in to.
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        await answer_in_thread(services, client, context["t"], event,
                               threaded=bool(event.get("thread_ts")))
