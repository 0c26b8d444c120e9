"""The bot's settings, from the environment (and a `.env` file when there is one).

Each problem is one sentence that says what to set, so a missing or mistyped token is a single
clear line at start-up, not a traceback from deep inside the Slack SDK.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from bot.errors import ConfigError

SLACK_API_URL = "https://slack.com/api/"
REPLY_MODES = ("in_channel", "ephemeral")


NO_BOT_TOKEN = ("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your "
                "app's OAuth & Permissions page.")


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = None
    app_token: str | None = None
    signing_secret: str | None = None
    api_url: str = SLACK_API_URL
    reply: str = "in_channel"  # how /blcheck results are shown: to the channel or privately
    host: str = "0.0.0.0"
    port: int = 3000
    lang: str | None = None

    @property
    def has_slack(self) -> bool:
        return bool(self.bot_token or self.app_token)

    def check_socket_mode(self) -> None:
        if not self.bot_token:
            raise ConfigError(NO_BOT_TOKEN)
        if not self.app_token:
            raise ConfigError("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token "
                              "(xapp-…) with connections:write, from your app's Basic Information "
                              "page. Or start with --http and set SLACK_SIGNING_SECRET.")

    def check_http(self) -> None:
        if not self.bot_token:
            raise ConfigError(NO_BOT_TOKEN)
        if not self.signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request "
                              "with it (Basic Information → App Credentials → Signing Secret).")


def read_env(env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> dict[str, str]:
    """The process environment over the `.env` file: a variable set in the shell wins."""
    merged: dict[str, str] = {}
    if dotenv is not None and dotenv.is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    merged.update(os.environ if env is None else env)
    return merged


def _token(env: Mapping[str, str], name: str, prefix: str, what: str) -> str | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    if not value.startswith(prefix):
        raise ConfigError(f"{name} does not look like {what} (it should start with {prefix}); "
                          "check that the two tokens are not swapped.")
    return value


def load(env: Mapping[str, str]) -> Settings:
    """Settings from `env` (see `read_env`); ConfigError names the variable that is wrong."""
    api_url = env.get("SLACK_API_URL", "").strip() or SLACK_API_URL
    if not api_url.startswith(("https://", "http://")):
        raise ConfigError(f"SLACK_API_URL {api_url!r} is not an http(s) URL.")
    if not api_url.endswith("/"):
        api_url += "/"  # slack_sdk joins method names onto it
    reply = (env.get("BLCHECK_REPLY", "").strip().lower() or "in_channel").replace("-", "_")
    if reply == "channel":
        reply = "in_channel"
    if reply not in REPLY_MODES:
        raise ConfigError("BLCHECK_REPLY must be in_channel (the default) or ephemeral.")
    port_text = env.get("PORT", "").strip() or "3000"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"PORT {port_text!r} is not a TCP port number.")
    return Settings(
        bot_token=_token(env, "SLACK_BOT_TOKEN", "xoxb-", "a bot token"),
        app_token=_token(env, "SLACK_APP_TOKEN", "xapp-", "an app-level token"),
        signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip() or None,
        api_url=api_url,
        reply=reply,
        host=env.get("BLCHECK_HOST", "").strip() or "0.0.0.0",
        port=int(port_text),
        lang=env.get("BLCHECK_LANG", "").strip() or None,
    )
