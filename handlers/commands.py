"""`/blcheck`: acknowledge at once, check, then replace the first answer with the result."""

from __future__ import annotations

import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.i18n import Messages
from bot.render.blocks import Message, notice_message
from bot.services import Services
from handlers.checks import Answer, parse_request, refusal, replace_with_respond
from handlers.watch import guarded, history


def register(app: AsyncApp, services: Services) -> None:
    reply = services.settings.reply

    @app.command("/blcheck")
    async def blcheck(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond,
                      context: AsyncBoltContext) -> None:
        t = context["t"]
        words = command.get("text", "").split()
        if words and words[0].lower() == "passive":
            await ack(response_type="ephemeral", **passive(t, command, words[1:]).payload())
            return
        if words and words[0].lower() == "history":
            message = await guarded(t, history(services, t, command, words[1:]))
            await ack(response_type="ephemeral", **message.payload())
            return
        request = parse_request(command.get("text", ""))
        if not request.targets:
            # Help and refused input go only to the person who typed it.
            await ack(response_type="ephemeral", **refusal(t, request).payload())
            return
        answer = Answer(services, t, request)
        first = await answer.first()
        await ack(response_type=reply, **first.payload())
        if not answer.complete:
            await answer.follow_up(replace_with_respond(respond, reply), time.monotonic())


    def passive(t: Messages, command: dict[str, Any], args: list[str]) -> Message:
        channel = command.get("channel_id", "")
        wanted = args[0].lower() if args else ""
        if wanted in ("on", "off"):
            services.channels.set_passive(channel, wanted == "on")
            return notice_message(t("passive.on" if wanted == "on" else "passive.off"))
        state = "on" if services.channels.passive(channel) else "off"
        return notice_message(t("passive.usage", state=state))
