"""The Bolt app: one factory for Socket Mode, HTTP and the console, so all three run the same
listeners and differ only in how requests arrive."""

from __future__ import annotations

import os
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.errors import ConfigError
from bot.services import Services
from bot.settings import Settings
from bot.slack_errors import slack_error
from handlers.middleware import retry_handlers

# Bolt reads these from the environment by itself: the client IDs switch it to OAuth
# (multi-workspace) mode, and a token there beside our own client only causes warnings.
BOLT_VARIABLES = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")


def build_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """A Web API client at SLACK_API_URL that waits out 429s and retries 5xx."""
    client = AsyncWebClient(token=token, base_url=settings.api_url)
    client.retry_handlers = retry_handlers()
    return client


async def authenticate(client: AsyncWebClient, token: str) -> AuthorizeResult:
    """Ask Slack who we are, once at start-up; a bad token is one clear sentence."""
    try:
        response = await client.auth_test(token=token)
    except SlackApiError as exc:
        error = slack_error(exc)
        raise ConfigError(f"Slack rejected SLACK_BOT_TOKEN ({error}): copy the Bot User OAuth "
                          "Token (xoxb-…) from your app's OAuth & Permissions page, and "
                          "reinstall the app if its scopes changed.") from None
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach Slack at {client.base_url}: {exc}") from None
    return AuthorizeResult.from_auth_test_response(bot_token=token,
                                                   auth_test_response=response)


def build_app(services: Services, client: AsyncWebClient, identity: AuthorizeResult,
              verify_requests: bool = False) -> AsyncApp:
    """The app with every listener registered. `identity` (from `authenticate`) saves Bolt the
    `auth.test` it would otherwise make on the first request."""
    for name in BOLT_VARIABLES:
        os.environ.pop(name, None)  # settings were read already; child processes get no secrets

    async def authorize(**_: Any) -> AuthorizeResult:
        return identity

    app = AsyncApp(
        name="blcheck",
        client=client,
        authorize=authorize,
        signing_secret=services.settings.signing_secret or "",
        request_verification_enabled=verify_requests,
    )
    handlers.register(app, services)
    return app
