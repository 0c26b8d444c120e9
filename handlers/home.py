"""App Home: the guide, and the workspace's watches with their state and buttons."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.i18n import Messages
from bot.render.alerts import ACTION_MUTE, ACTION_RECHECK_WATCH
from bot.render.blocks import guide_blocks
from bot.render.mrkdwn import clip, code
from bot.services import Services
from bot.watch.store import Watch

MAX_HOME_WATCHES = 30  # 3 blocks each, within the Home tab's 100


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%m-%d %H:%M UTC") if ts else "—"


def watch_state(t: Messages, watch: Watch, open_listings: int) -> str:
    """A watch's state in a word or two, with its emoji (the list and App Home)."""
    if not watch.baseline_done:
        return ":hourglass_flowing_sand: " + t("watch.state.pending")
    if open_listings:
        return ":rotating_light: " + t("watch.state.open", count=open_listings)
    return ":white_check_mark: " + t("watch.state.clean")


async def home_view(services: Services, t: Messages, team: str) -> dict[str, Any]:
    """The guide until the workspace has a watch; then the short guide and the watches."""
    guide = guide_blocks(t, lists=len(services.catalog.for_kind("ip4")))
    watching = services.watching
    if watching is None:
        return {"type": "home", "blocks": guide}
    try:
        watches = await watching.store.watches(team)
        rows = [(wt, await watching.store.listings(wt.id)) for wt in watches[:MAX_HOME_WATCHES]]
    except (SQLAlchemyError, OSError):
        note = SectionBlock(text=MarkdownTextObject(text=t("watch.no_database"))).to_dict()
        return {"type": "home", "blocks": [*guide, note]}
    if not watches:
        return {"type": "home", "blocks": guide}
    blocks: list[dict[str, Any]] = [
        HeaderBlock(text=PlainTextObject(text=t("home.title"))).to_dict(),
        SectionBlock(text=MarkdownTextObject(text=t("home.body"))).to_dict(),
        DividerBlock().to_dict(),
    ]
    blocks.append(HeaderBlock(text=PlainTextObject(text=t("home.watches", count=len(watches)))).to_dict())
    now = time.time()
    for wt, open_ in rows:
        state = watch_state(t, wt, len(open_))
        lists = ", ".join(sorted({x.list_id for x in open_}))
        muted = " · :mute: " + t("watch.muted_until", when=_when(wt.muted_until)) if wt.muted(now) else ""
        text = (t("home.watch_line", target=code(wt.target), channel=f"<#{wt.channel_id}>")
                + f" · {state}{' (' + lists + ')' if lists else ''}{muted}\n"
                + t("home.watch_times", last=_when(wt.last_checked_at), next=_when(wt.next_check_at)))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(text, 3000))).to_dict())
        value = json.dumps({"w": wt.id})
        blocks.append(ActionsBlock(elements=[
            ButtonElement(text=t("button.recheck_now"), action_id=ACTION_RECHECK_WATCH, value=value),
            ButtonElement(text=t("button.mute"), action_id=ACTION_MUTE, value=value),
        ]).to_dict())
    return {"type": "home", "blocks": blocks[:100]}


async def publish_home(services: Services, client: AsyncWebClient, t: Messages, user: str, team: str) -> None:
    await client.views_publish(user_id=user, view=await home_view(services, t, team))


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient,
                          context: AsyncBoltContext) -> None:
        if event.get("tab", "home") != "home":
            return
        await publish_home(services, client, context["t"], event["user"], body.get("team_id", ""))
