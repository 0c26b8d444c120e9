"""One exception root, as dnspython has: callers catch `BlcheckError` and show its message."""


class BlcheckError(Exception):
    """Base of every error blcheck raises on purpose; its text is meant for the user."""


class TargetError(BlcheckError):
    """The user's input is not something we can check (with a hint in the message)."""


class CatalogError(BlcheckError):
    """A blocklist catalog file is unreadable or inconsistent."""


class ConfigError(BlcheckError):
    """A setting (nameserver, timeout, environment variable) is malformed."""
