"""The *Diagnose bounce* message shortcut: any message, a threaded diagnosis."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.blocks import notice_message
from bot.services import Services
from bot.slack_errors import slack_error
from handlers.bounces import diagnose_all, diagnosis_reply, fetch_files, post_in_thread

log = logging.getLogger(__name__)

CALLBACK_DIAGNOSE = "diagnose_bounce"


def register(app: AsyncApp, services: Services) -> None:
    @app.message_shortcut(CALLBACK_DIAGNOSE)
    async def diagnose(ack: AsyncAck, shortcut: dict[str, Any], respond: AsyncRespond,
                       client: AsyncWebClient, context: AsyncBoltContext) -> None:
        await ack()
        t = context["t"]
        message = shortcut.get("message") or {}
        contents, problems = await fetch_files(services, client.token, message.get("files") or [], t)
        result = diagnose_all(message.get("text") or "", contents)
        result.notes.extend(problems)
        if not result.is_bounce:
            # Asked explicitly, so say so; privately, the channel need not see it.
            await respond(response_type="ephemeral",
                          **notice_message("\n".join([t("diag.not_a_bounce"), *problems])).payload())
            return
        reply = await diagnosis_reply(services, t, result)
        channel = str((shortcut.get("channel") or {}).get("id") or "")
        try:
            await post_in_thread(client, channel, message.get("thread_ts") or message.get("ts"), reply)
        except SlackApiError as exc:
            # Not in the channel (a private channel it was not invited to): answer privately.
            log.info("diagnosis not posted in %s: %s", channel, slack_error(exc))
            await respond(response_type="ephemeral", text=reply.text,
                          blocks=[*reply.blocks, *notice_message(t("bounce.invite")).blocks])
