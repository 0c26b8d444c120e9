"""Per-list daily query budgets (a list operator's free-use volume), as data.

The engine asks `take()` before every query to a budgeted list; a spent budget turns the list's
answer into "unknown" (never "clean") until the next UTC day. Counting is local and cheap; a
process with storage adds its count to the shared total now and then (`drain` / `sync`), so
several processes spend one budget together.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from bot.errors import ConfigError


@dataclass(frozen=True)
class Budget:
    id: str
    name: str
    lists: frozenset[str]
    per_day: int
    warn_at: tuple[float, ...]
    advice: str  # message key
    source: str | None = None


def load_budgets(env: Mapping[str, str] | None = None, text: str | None = None) -> list[Budget]:
    """The shipped budgets, with BLCHECK_BUDGET_<ID> overrides (0 switches one off)."""
    env = os.environ if env is None else env
    if text is None:
        text = resources.files("bot.data").joinpath("budgets.toml").read_text(encoding="utf-8")
    budgets = []
    for raw in tomllib.loads(text).get("budget", []):
        name = f"BLCHECK_BUDGET_{raw['id'].upper().replace('-', '_')}"
        per_day = int(raw["per_day"])
        if (override := env.get(name, "").strip()):
            if not override.isdigit():
                raise ConfigError(f"{name} must be a whole number of queries per day (0 switches it off)")
            per_day = int(override)
        if per_day <= 0:
            continue
        budgets.append(Budget(raw["id"], raw["name"], frozenset(raw["lists"]), per_day,
                              tuple(sorted(raw.get("warn_at", [0.8]))), raw["advice"], raw.get("source")))
    return budgets


def utc_day(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


class Budgets:
    """Today's spending per budget: the shared total last seen plus what this process spent since."""

    def __init__(self, budgets: Iterable[Budget], clock: Callable[[], float] = time.time) -> None:
        self.budgets = {b.id: b for b in budgets}
        self._of = {list_id: b for b in self.budgets.values() for list_id in b.lists}
        self.clock = clock
        self.day = utc_day(clock())
        self._shared: dict[str, int] = {}
        self._local: dict[str, int] = {}

    def _roll(self) -> None:
        day = utc_day(self.clock())
        if day != self.day:
            self.day, self._shared, self._local = day, {}, {}

    def of(self, list_id: str) -> Budget | None:
        return self._of.get(list_id)

    def used(self, budget_id: str) -> int:
        self._roll()
        return self._shared.get(budget_id, 0) + self._local.get(budget_id, 0)

    def take(self, list_id: str) -> bool:
        """Whether one more query to `list_id` fits today's budget (and count it if so)."""
        budget = self._of.get(list_id)
        if budget is None:
            return True
        if self.used(budget.id) >= budget.per_day:
            return False
        self._local[budget.id] = self._local.get(budget.id, 0) + 1
        return True

    def drain(self) -> tuple[str, dict[str, int]]:
        """(day, queries spent here since the last drain), for the shared total."""
        self._roll()
        spent, self._local = self._local, {}
        for budget_id, n in spent.items():
            self._shared[budget_id] = self._shared.get(budget_id, 0) + n
        return self.day, spent

    def sync(self, day: str, totals: Mapping[str, int]) -> None:
        """The shared totals for `day`, as storage has them (every process's spending)."""
        if day == self.day:
            self._shared.update(totals)

    def spent_detail(self, budget: Budget) -> str:
        return (f"{budget.name}: {budget.per_day:,} queries a day spent; "
                f"asked again from 00:00 UTC")
