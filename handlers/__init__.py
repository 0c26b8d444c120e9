"""Slack listeners: each module translates one Slack surface to core calls and back."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services import Services
from handlers import actions, commands, events, home, middleware, shortcuts, watch


def register(app: AsyncApp, services: Services) -> None:
    middleware.install(app, services.settings.lang)
    for module in (commands, actions, events, shortcuts, home, watch):
        module.register(app, services)
