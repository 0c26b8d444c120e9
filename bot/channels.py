"""Per-channel settings that must survive a restart (today: passive bounce diagnosis).

A small JSON file under the data directory, replaced atomically on every change. The watch
storage of 4/6 (SQLAlchemy) takes this over; the file format is kept trivial so it can be
imported there.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def data_dir(env: dict[str, str] | None = None) -> Path:
    """BLCHECK_DATA_DIR, else $XDG_DATA_HOME/blcheck, else ~/.local/share/blcheck."""
    env = dict(os.environ) if env is None else env
    if env.get("BLCHECK_DATA_DIR"):
        return Path(env["BLCHECK_DATA_DIR"])
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "blcheck"


class ChannelSettings:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._passive: set[str] = set()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            self._passive = {str(c) for c in raw.get("passive", [])}
        except FileNotFoundError:
            pass
        except (OSError, ValueError):
            pass  # an unreadable file is treated as empty; the next change rewrites it

    def passive(self, channel: str) -> bool:
        return channel in self._passive

    def set_passive(self, channel: str, on: bool) -> None:
        if on:
            self._passive.add(channel)
        else:
            self._passive.discard(channel)
        self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".channels-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"passive": sorted(self._passive)}, f)
        os.replace(tmp, self.path)
