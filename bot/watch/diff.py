"""What changed between the listings on record and a fresh check (pure).

Only answers that count decide: a listing appears when a list answers a counting listing code;
it ends only when that list answers clean. `unknown` and `error` (a timeout, SERVFAIL, a dead or
world-listing list) never change anything, so a DNS outage produces no alert at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.dnsbl.decode import ALLOWED, CLEAN, LISTED
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


def observe(reports: list[Report]) -> Observation:
    obs = Observation({}, set())
    for report in reports:
        for check in report.checks:
            key = (report.query, check.list.id)
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
