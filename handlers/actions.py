"""The *Recheck* button on a result: the same check again, in place (*Watch* is in watch.py)."""

from __future__ import annotations

import json
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.render.blocks import ACTION_RECHECK, notice_message
from bot.services import Services
from handlers.checks import Answer, parse_request, replace_with_respond


def asked_of(action: dict[str, Any]) -> str | None:
    """The targets a button carries, or None for a value we did not write."""
    try:
        value = json.loads(action.get("value") or "")
    except ValueError:
        return None
    asked = value.get("q") if isinstance(value, dict) else None
    return asked if isinstance(asked, str) and asked.strip() else None


def register(app: AsyncApp, services: Services) -> None:
    reply = services.settings.reply

    @app.action(ACTION_RECHECK)
    async def recheck(ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond,
                      context: AsyncBoltContext) -> None:
        await ack()
        t = context["t"]
        asked = asked_of(action)
        request = parse_request(t, asked or "")
        if asked is None or not request.targets:
            await respond(response_type="ephemeral", replace_original=False,
                          **notice_message(t("error.bad_button"), "error").payload())
            return
        show = replace_with_respond(respond, reply)
        answer = Answer(services, t, request)
        await show(await answer.first())
        if not answer.complete:
            await answer.follow_up(show, time.monotonic())
