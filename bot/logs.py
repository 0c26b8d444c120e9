"""Logging set-up: plain or JSON lines, and no secret ever written, whoever logs it."""

from __future__ import annotations

import json
import logging
import re
import sys
import time

_SECRET = re.compile(r"\b(xox[abeoprs]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)")


class Redact(logging.Filter):
    """Masks Slack tokens and the given secrets in every record (message and arguments)."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s and len(s) >= 6)

    def clean(self, text: str) -> str:
        text = _SECRET.sub(lambda m: m.group(1)[:5] + "…redacted", text)
        for secret in self.secrets:
            text = text.replace(secret, "…redacted")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.clean(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
                 "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage()}
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def setup(level: str = "INFO", as_json: bool = False, secrets: tuple[str, ...] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(Redact(secrets))
    handler.setFormatter(JsonFormatter() if as_json else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
