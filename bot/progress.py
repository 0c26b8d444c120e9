"""A progress bar for the command line: long work (a /24, many files) shows how far it is.

Drawn on stderr, so stdout stays the result a script reads; only when stderr is a terminal
unless asked for (`--progress`), and at most ten times a second.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from bot.i18n import Messages

WIDTH = 30


class ProgressBar:
    def __init__(self, t: Messages, key: str, stream: TextIO | None = None, every: float = 0.1) -> None:
        self.t = t
        self.key = key
        self.stream = stream or sys.stderr
        self.every = every
        self._drawn_at = 0.0
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._drawn_at < self.every:
            return
        self._drawn_at = now
        filled = WIDTH * done // total if total else WIDTH
        bar = "#" * filled + "-" * (WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.t(self.key, done=done, total=total)}")
        self._shown = True
        if done >= total:
            self.stream.write("\n")
            self._shown = False
        self.stream.flush()

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
