"""One exception root, as dnspython has: callers catch `BlcheckError` and show its message."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.i18n import Text


class BlcheckError(Exception):
    """Base of every error blcheck raises on purpose; its text is meant for the user."""


class TargetError(BlcheckError):
    """The user's input is not something we can check (with a hint in the message).

    Carries the message as an untranslated `Text`, so Slack and the command line show it in
    the reader's language; `str()` is English."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text


class CatalogError(BlcheckError):
    """A blocklist catalog file is unreadable or inconsistent."""


class ConfigError(BlcheckError):
    """A setting (nameserver, timeout, environment variable) is malformed."""
