"""The *Diagnose bounce* message shortcut."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.render.blocks import notice_message
from bot.services import Services

CALLBACK_DIAGNOSE = "diagnose_bounce"


def register(app: AsyncApp, services: Services) -> None:
    @app.message_shortcut(CALLBACK_DIAGNOSE)
    async def diagnose(ack: AsyncAck, respond: AsyncRespond, context: AsyncBoltContext) -> None:
        await ack()
        await respond(response_type="ephemeral",
                      **notice_message(context["t"]("shortcut.not_yet")).payload())
