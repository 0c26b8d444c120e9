"""What changed between the listings on record and a fresh check (pure).

Only answers that count decide: a listing appears when a list answers a counting listing code;
it ends only when that list answers clean. `unknown` and `error` (a timeout, SERVFAIL, a dead or
world-listing list) never change anything, so a DNS outage produces no alert at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.dnsbl.decode import ALLOWED, CLEAN, LISTED, UNKNOWN
from bot.dnsbl.results import ListCheck, Report

Key = tuple[str, str]  # (address or domain, list id)


@dataclass(frozen=True)
class Seen:
    codes: str
    reason: str | None
    meaning: str
    list_name: str


@dataclass
class Observation:
    listed: dict[Key, Seen]
    clean: set[Key]  # answered "not listed" by a healthy list
    unanswered: set[str] = field(default_factory=set)  # items a list did not answer (timeouts)

    def merge(self, other: Observation) -> None:
        """Add a second look: it fills in what this one left unanswered; an answer this one
        already had wins (the second look is not a vote)."""
        for key, seen in other.listed.items():
            if key not in self.clean:
                self.listed.setdefault(key, seen)
        self.clean |= {key for key in other.clean if key not in self.listed}
        self.unanswered &= other.unanswered


def observe(reports: list[Report]) -> Observation:
    obs = Observation({}, set())
    for report in reports:
        for check in report.checks:
            key = (report.query, check.list.id)
            if check.status == UNKNOWN and check.unreliable is None:
                obs.unanswered.add(report.query)
            if check.counts_as_listing:
                obs.listed[key] = _seen(check)
            elif check.status in (CLEAN, ALLOWED) and check.unreliable is None:
                obs.clean.add(key)
            elif check.status == LISTED and not check.counts_as_listing and check.unreliable is None:
                obs.clean.add(key)  # informational: never an alert, and it ends a listing
    return obs


def _seen(check: ListCheck) -> Seen:
    return Seen(" ".join(check.codes), check.reason, "; ".join(check.meanings), check.list.name)


@dataclass
class Change:
    new: dict[Key, Seen]
    gone: set[Key]


def diff(previous: set[Key], obs: Observation) -> Change:
    new = {k: v for k, v in obs.listed.items() if k not in previous}
    gone = {k for k in previous if k in obs.clean}
    return Change(new, gone)
