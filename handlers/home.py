"""App Home: what the bot does and how to use it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.models.blocks import HeaderBlock, MarkdownTextObject, PlainTextObject, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from bot.i18n import Messages
from bot.services import Services


def home_view(t: Messages) -> dict[str, Any]:
    return {"type": "home", "blocks": [
        HeaderBlock(text=PlainTextObject(text=t("home.title"))).to_dict(),
        SectionBlock(text=MarkdownTextObject(text=t("home.body"))).to_dict(),
    ]}


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], client: AsyncWebClient,
                          context: AsyncBoltContext) -> None:
        if event.get("tab", "home") != "home":
            return
        await client.views_publish(user_id=event["user"], view=home_view(context["t"]))
