"""Settings from the environment and .env: clear sentences for every mistake."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.logs import Redact
from bot.settings import load, read_env


def test_defaults_without_slack() -> None:
    s = load({})
    assert not s.has_slack and s.reply == "in_channel" and s.port == 3000
    assert s.api_url == "https://slack.com/api/"


def test_api_url_gets_its_trailing_slash() -> None:
    assert load({"SLACK_API_URL": "http://127.0.0.1:9/api"}).api_url == "http://127.0.0.1:9/api/"


@pytest.mark.parametrize("env, says", [
    ({"SLACK_BOT_TOKEN": "xapp-1-x"}, "SLACK_BOT_TOKEN does not look like a bot token"),
    ({"SLACK_APP_TOKEN": "xoxb-1-x"}, "SLACK_APP_TOKEN does not look like an app-level token"),
    ({"BLCHECK_REPLY": "loud"}, "BLCHECK_REPLY must be in_channel"),
    ({"PORT": "http"}, "PORT 'http' is not a TCP port number."),
    ({"SLACK_API_URL": "slack.com"}, "is not an http(s) URL"),
])
def test_mistakes_are_named(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=None) as exc:
        load(env)
    assert says in str(exc.value)
    for value in env.values():
        if value.startswith("x"):
            assert value not in str(exc.value)


def test_http_mode_needs_the_signing_secret() -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        load({"SLACK_BOT_TOKEN": "xoxb-1"}).check_http()


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("BLCHECK_REPLY=ephemeral\nPORT=4000\n")
    env = read_env({"PORT": "5000"}, dotenv)
    assert load(env).reply == "ephemeral" and load(env).port == 5000


def test_tokens_are_redacted_from_log_records() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s and %s and secret %s",
                               ("xoxb-123-456-abcdef", "xapp-1-A1-2-zzz", "s3cr3t-signing"), None)
    Redact(("s3cr3t-signing",)).filter(record)
    text = record.getMessage()
    assert "xoxb-123" not in text and "xapp-1-A1" not in text and "s3cr3t" not in text
    assert "xoxb-…redacted" in text
