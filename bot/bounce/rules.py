"""The bounce signatures of `bot/data/bounce.toml`, loaded and checked once."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from bot.errors import CatalogError


@dataclass(frozen=True)
class Reason:
    name: str
    phrases: tuple[str, ...] = ()
    statuses: frozenset[str] = frozenset()
    status_prefixes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    status_decides: bool = False  # a phrase match yields to another reason's specific status
    explanation: str = ""
    remedy: str = ""

    def phrase_in(self, text: str) -> bool:
        contains = text.__contains__  # map() over a C method: several times faster than a genexpr
        if self.excludes and any(map(contains, self.excludes)):
            return False
        return any(map(contains, self.phrases))

    def status_maps(self, status: str | None) -> bool:
        if not status:
            return False
        return status in self.statuses or status.startswith(self.status_prefixes or ("\0",))


@dataclass(frozen=True)
class Rule:
    phrases: tuple[str, ...]
    reason: str
    remedy: str | None = None


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    hosts: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Blocklist:
    id: str
    name: str
    patterns: tuple[str, ...]
    explanation: str
    remedy: str
    check: str | None = None  # catalog id for the live re-check
    reason: str = "blocked"
    delist: str | None = None
    domain: bool = False


@dataclass(frozen=True)
class Rules:
    reasons: dict[str, Reason]
    first_pass: tuple[str, ...]
    second_pass: tuple[str, ...]
    providers: tuple[Provider, ...]
    blocklists: tuple[Blocklist, ...]
    refused_ip: tuple[re.Pattern[str], ...] = field(default=())
    by_host: dict[str, Provider] = field(default_factory=dict)

    def provider_for_host(self, host: str | None) -> Provider | None:
        """The provider serving `host` or a parent domain of it (one lookup per label)."""
        if not host:
            return None
        labels = host.lower().rstrip(".").split(".")
        for i in range(len(labels) - 1):
            if (p := self.by_host.get(".".join(labels[i:]))) is not None:
                return p
        return None


def _strings(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where}: {key} must be a list of strings")
    # Folded as classify.normalize() folds the text (NFKC, lower case): 「ＩＰアドレス」 or 「ﾒｰﾙ」
    # in the data match however the bounce wrote them.
    return tuple(unicodedata.normalize("NFKC", v).lower() for v in value)


def parse(text: str, source: str = "bounce.toml") -> Rules:
    raw = tomllib.loads(text)
    unknown = set(raw) - {"first_pass", "second_pass", "refused_ip", "reason", "provider", "blocklist"}
    if unknown:
        raise CatalogError(f"{source}: unknown top-level keys {sorted(unknown)}")
    reasons = {}
    for name, r in raw.get("reason", {}).items():
        where = f"{source}: reason {name}"
        extra = set(r) - {"statuses", "phrases", "status_prefixes", "excludes", "status_decides",
                          "explanation", "remedy"}
        if extra:
            raise CatalogError(f"{where}: unknown keys {sorted(extra)} (a key placed after a table?)")
        reasons[name] = Reason(
            name, _strings(r, "phrases", where), frozenset(_strings(r, "statuses", where)),
            _strings(r, "status_prefixes", where), _strings(r, "excludes", where),
            bool(r.get("status_decides", False)), r.get("explanation", ""), r.get("remedy", ""))
    order = tuple(raw.get("first_pass", ())), tuple(raw.get("second_pass", ()))
    for name in (*order[0], *order[1]):
        if name not in reasons:
            raise CatalogError(f"{source}: pass order names unknown reason {name!r}")
    providers = []
    for p in raw.get("provider", []):
        where = f"{source}: provider {p.get('id')}"
        rules = []
        for rule in p.get("rules", []):
            if rule.get("reason") not in reasons:
                raise CatalogError(f"{where}: unknown reason {rule.get('reason')!r}")
            rules.append(Rule(_strings(rule, "phrases", where), rule["reason"], rule.get("remedy")))
        providers.append(Provider(p["id"], p["name"], _strings(p, "hosts", where),
                                  _strings(p, "patterns", where), tuple(rules),
                                  tuple(p.get("links", []))))
    blocklists = []
    for b in raw.get("blocklist", []):
        where = f"{source}: blocklist {b.get('id')}"
        if b.get("reason", "blocked") not in reasons:
            raise CatalogError(f"{where}: unknown reason {b.get('reason')!r}")
        blocklists.append(Blocklist(b["id"], b["name"], _strings(b, "patterns", where),
                                    b.get("explanation", ""), b.get("remedy", ""), b.get("check"),
                                    b.get("reason", "blocked"), b.get("delist"),
                                    bool(b.get("domain", False))))
    try:
        refused = tuple(re.compile(p, re.I | re.M) for p in raw.get("refused_ip", []))
    except re.error as exc:
        raise CatalogError(f"{source}: refused_ip pattern: {exc}") from None
    by_host: dict[str, Provider] = {}
    for p in providers:
        for h in p.hosts:
            by_host.setdefault(h, p)
    return Rules(reasons, order[0], order[1], tuple(providers), tuple(blocklists), refused, by_host)


@cache
def default_rules() -> Rules:
    text = resources.files("bot").joinpath("data/bounce.toml").read_text(encoding="utf-8")
    return parse(text)
