"""`/blcheck`: acknowledge at once, check, then replace the first answer with the result."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.dnsbl.doctor import examine, report
from bot.i18n import Messages
from bot.render.blocks import Message, notice_message
from bot.render.mrkdwn import escape
from bot.render.timeline import WINDOW_DAYS
from bot.services import Services
from handlers.checks import Answer, parse_request, refusal, replace_with_respond
from handlers.watch import guarded, history, lines_message, timeline


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
        if words and words[0].lower() == "doctor":
            # Answered in the ack when quick; else "examining…", replaced no sooner than 1 s later.
            task = asyncio.ensure_future(doctor(t))
            done, _ = await asyncio.wait({task}, timeout=Answer.QUICK)
            if done:
                await ack(response_type="ephemeral", **task.result().payload())
                return
            await ack(response_type="ephemeral", **notice_message(t("doctor.examining")).payload())
            result = await task
            await asyncio.sleep(Answer.GAP)
            await respond(response_type="ephemeral", replace_original=True, **result.payload())
            return
        if words and words[0].lower() == "history":
            message = await guarded(t, history(services, t, command, words[1:]))
            await ack(response_type="ephemeral", **message.payload())
            await share_timeline(t, command, words[1:], context, respond)
            return
        request = parse_request(t, command.get("text", ""))
        if not request.targets:
            # Help and refused input go only to the person who typed it.
            lists = len(services.catalog.for_kind("ip4"))
            await ack(response_type="ephemeral", **refusal(t, request, lists=lists).payload())
            return
        answer = Answer(services, t, request)
        first = await answer.first()
        await ack(response_type=reply, **first.payload())
        if not answer.complete:
            await answer.follow_up(replace_with_respond(respond, reply), time.monotonic())


    async def share_timeline(t: Messages, command: dict[str, Any], words: list[str],
                             context: AsyncBoltContext, respond: AsyncRespond) -> None:
        """The 90-day picture, shared in the channel (files_upload_v2); a failure is said to the
        user only, the text timeline is already there."""
        try:
            found = await timeline(services, command, words, time.time())
        except (SQLAlchemyError, OSError):
            return  # the text answer already said the database is down
        if found is None or context.client is None:
            return
        watch, png, spans = found
        names = {bl.id: bl.name for bl in services.catalog}
        recurring = [names.get(lid, lid) for lid, listed in spans.items() if len(listed) >= 3]
        comment = t("history.picture", target=watch.target, days=WINDOW_DAYS)
        if recurring:
            comment += "\n" + t("history.recurring", lists=", ".join(sorted(recurring)))
        try:
            await context.client.files_upload_v2(
                channel=command.get("channel_id"), content=png, filename="blcheck-history.png",
                title=t("history.title", target=watch.target), initial_comment=comment,
                alt_txt=t("history.picture", target=watch.target, days=WINDOW_DAYS))
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if exc.response is not None else str(exc)
            await respond(response_type="ephemeral", replace_original=False,
                          text=t("history.picture_failed", error=error))

    async def doctor(t: Messages) -> Message:
        findings, examined = await examine(services.checker.client, services.catalog, t)
        resolver = ", ".join(str(ns) for ns in services.checker.client.nameservers)
        lines = report(t, findings, examined, resolver)
        return lines_message(lines[0], [f"• {escape(x)}" for x in lines[1:]])

    def passive(t: Messages, command: dict[str, Any], args: list[str]) -> Message:
        channel = command.get("channel_id", "")
        wanted = args[0].lower() if args else ""
        if wanted in ("on", "off"):
            services.channels.set_passive(channel, wanted == "on")
            return notice_message(t("passive.on" if wanted == "on" else "passive.off"))
        state = t("passive.state.on" if services.channels.passive(channel) else "passive.state.off")
        return notice_message(t("passive.usage", state=state))
