"""The blocklist catalog: which lists exist and how to read their answers, loaded from TOML.

The catalog is data (bot/data/lists.toml) so that adding a list, fixing a code meaning or
retiring a dead list is a data change. A user's own file is merged over it by list id.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from bot.errors import CatalogError

KINDS = frozenset({"ip4", "ip6", "domain"})
ROLES = frozenset({"block", "allow", "info"})
SCOPES = frozenset({"ip", "range", "asn", "domain"})
CODE_STATES = frozenset({"listed", "allowed", "error", "neutral"})
KEYS = frozenset({"spamhaus_dqs"})
_DQS_KEY = re.compile(r"^[a-z0-9]{20,40}$")


def _ip4(text: str, where: str) -> int:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        raise CatalogError(f"{where}: {text!r} is not an IPv4 answer code") from None


@dataclass(frozen=True, slots=True)
class CodeRule:
    """One answer rule: a matcher (exact, range, CIDR [+ last octet], or bit) and its meaning."""

    state: str
    meaning: str
    informational: bool = False
    cause: str | None = None
    low: int | None = None
    high: int | None = None
    last: int | None = None
    bit: int | None = None

    def matches(self, value: int) -> bool:
        if self.bit is not None:
            return bool(value & 0xFF & self.bit)
        if self.low is not None and self.high is not None and not self.low <= value <= self.high:
            return False
        return self.last is None or value & 0xFF == self.last


@dataclass(frozen=True, slots=True)
class Blocklist:
    """One DNS list. `query_zone` may hold a secret (DQS key); show `zone` to people."""

    id: str
    name: str
    zone: str
    kinds: frozenset[str]
    role: str = "block"
    scope: str = "ip"
    codes: tuple[CodeRule, ...] = ()
    query_zone: str = ""
    dqs_zone: str | None = None
    requires_key: str | None = None
    lookup_url: str | None = None
    delist_url: str | None = None
    removal: str | None = None
    needs: str | None = None
    test_listed: str | None = None
    test_answer: str | None = None
    skip_health: bool = False

    def url(self, template: str | None, target: str) -> str | None:
        return None if template is None else template.replace("{target}", target)

    @property
    def test_points(self) -> dict[str, tuple[str, str]]:
        """Per kind: (address or name that must be listed, one that must not), RFC 5782 §5."""
        points = {
            "ip4": ("127.0.0.2", "127.0.0.1"),
            "ip6": ("::ffff:7f00:2", "::ffff:7f00:1"),
            "domain": ("test", "invalid"),
        }
        if self.test_listed:
            points[_kind_of(self.test_listed)] = (
                self.test_listed,
                points[_kind_of(self.test_listed)][1],
            )
        return {kind: points[kind] for kind in sorted(self.kinds)}


def _kind_of(text: str) -> str:
    try:
        return "ip6" if ipaddress.ip_address(text).version == 6 else "ip4"
    except ValueError:
        return "domain"


@dataclass(frozen=True)
class Catalog:
    """The active lists (what gets queried) and those left out for want of a key."""

    lists: tuple[Blocklist, ...]
    unavailable: tuple[Blocklist, ...] = field(default=())

    def __iter__(self) -> Iterator[Blocklist]:
        return iter(self.lists)

    def __len__(self) -> int:
        return len(self.lists)

    def by_id(self, list_id: str) -> Blocklist:
        for bl in self.lists:
            if bl.id == list_id:
                return bl
        raise CatalogError(f"no list with id {list_id!r} (see `blcheck lists`)")

    def for_kind(self, kind: str) -> list[Blocklist]:
        return [bl for bl in self.lists if kind in bl.kinds]

    def select(self, ids: Iterable[str]) -> Catalog:
        """Only the named lists (`--lists a,b`), in catalog order; unknown ids are an error."""
        wanted = [i.strip() for i in ids if i.strip()]
        known = {bl.id for bl in self.lists} | {bl.id for bl in self.unavailable}
        missing = [i for i in wanted if i not in known]
        if missing:
            raise CatalogError(f"unknown list id(s): {', '.join(missing)} (see `blcheck lists`)")
        blocked = [bl.id for bl in self.unavailable if bl.id in wanted]
        if blocked:
            raise CatalogError(
                f"{', '.join(blocked)} need a Spamhaus DQS key (BLCHECK_SPAMHAUS_DQS_KEY)"
            )
        return Catalog(tuple(bl for bl in self.lists if bl.id in wanted))


def _rule(raw: dict[str, Any], where: str) -> CodeRule:
    state = raw.get("state", "listed")
    if state not in CODE_STATES:
        raise CatalogError(f"{where}: state must be one of {sorted(CODE_STATES)}")
    meaning = str(raw.get("meaning", "")).strip() or state
    matchers = [k for k in ("code", "range", "net", "bit") if k in raw]
    if len(matchers) != 1:
        raise CatalogError(f"{where}: give exactly one of code, range, net, bit")
    low = high = last = bit = None
    if "code" in raw:
        low = high = _ip4(str(raw["code"]), where)
    elif "range" in raw:
        a, sep, b = str(raw["range"]).partition("-")
        if not sep:
            raise CatalogError(f"{where}: range must look like 127.0.0.4-127.0.0.7")
        low, high = _ip4(a.strip(), where), _ip4(b.strip(), where)
    elif "net" in raw:
        try:
            net = ipaddress.IPv4Network(str(raw["net"]))
        except ValueError as exc:
            raise CatalogError(f"{where}: {exc}") from None
        low, high = int(net.network_address), int(net.broadcast_address)
    elif "bit" in raw:
        bit = int(raw["bit"])
        if not 0 < bit < 256:
            raise CatalogError(f"{where}: bit must be 1..255")
    if "last" in raw:
        last = int(raw["last"])
    return CodeRule(
        state=state,
        meaning=meaning,
        informational=bool(raw.get("informational", False)),
        cause=raw.get("cause"),
        low=low,
        high=high,
        last=last,
        bit=bit,
    )


def _blocklist(raw: dict[str, Any], source: str) -> Blocklist:
    list_id = str(raw.get("id", "")).strip()
    where = f"{source}: list {list_id or '?'}"
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,62}", list_id):
        raise CatalogError(f"{where}: id must be lower-case letters, digits, '.', '_' or '-'")
    zone = str(raw.get("zone", "")).strip().rstrip(".").lower()
    if not re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)+", zone):
        raise CatalogError(f"{where}: zone {zone!r} is not a domain name")
    kinds = frozenset(raw.get("kinds", ["ip4"]))
    if not kinds or not kinds <= KINDS or ("domain" in kinds and len(kinds) > 1):
        raise CatalogError(f"{where}: kinds must be ip4 and/or ip6, or domain alone")
    role = raw.get("role", "block")
    if role not in ROLES:
        raise CatalogError(f"{where}: role must be one of {sorted(ROLES)}")
    scope = raw.get("scope", "domain" if "domain" in kinds else "ip")
    if scope not in SCOPES:
        raise CatalogError(f"{where}: scope must be one of {sorted(SCOPES)}")
    requires_key = raw.get("requires_key")
    if requires_key is not None and requires_key not in KEYS:
        raise CatalogError(f"{where}: requires_key must be one of {sorted(KEYS)}")
    codes = tuple(_rule(c, f"{where} code {i + 1}") for i, c in enumerate(raw.get("codes", [])))
    if not codes:
        raise CatalogError(f"{where}: at least one [[list.codes]] rule is needed")
    known = {
        "id", "name", "zone", "kinds", "role", "scope", "codes", "dqs_zone", "requires_key",
        "lookup_url", "delist_url", "removal", "needs", "test_listed", "test_answer",
        "skip_health", "enabled",
    }
    unknown = set(raw) - known
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return Blocklist(
        id=list_id,
        name=str(raw.get("name", list_id)),
        zone=zone,
        kinds=kinds,
        role=role,
        scope=scope,
        codes=codes,
        query_zone=zone,
        dqs_zone=raw.get("dqs_zone"),
        requires_key=requires_key,
        lookup_url=raw.get("lookup_url"),
        delist_url=raw.get("delist_url"),
        removal=raw.get("removal"),
        needs=raw.get("needs"),
        test_listed=raw.get("test_listed"),
        test_answer=raw.get("test_answer"),
        skip_health=bool(raw.get("skip_health", False)),
    )


def _read(text: str, source: str) -> list[tuple[dict[str, Any], Blocklist | None]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: not valid TOML: {exc}") from None
    raw_lists = data.get("list", [])
    if not isinstance(raw_lists, list):
        raise CatalogError(f"{source}: expected [[list]] tables")
    out: list[tuple[dict[str, Any], Blocklist | None]] = []
    for raw in raw_lists:
        if raw.get("enabled", True) is False and set(raw) <= {"id", "enabled"}:
            out.append((raw, None))  # a bare `enabled = false` removes a default list
        else:
            out.append((raw, _blocklist(raw, source)))
    return out


def default_catalog_text() -> str:
    return resources.files("bot").joinpath("data/lists.toml").read_text(encoding="utf-8")


def load_catalog(
    extra: Sequence[str | Path] = (),
    *,
    dqs_key: str | None = None,
    replace_defaults: bool = False,
) -> Catalog:
    """The shipped catalog, with each file in `extra` merged over it by list id.

    A list in a user file replaces the default of the same id; `enabled = false` drops it.
    With `replace_defaults` only the user files count (an ISP's own private lists).
    """
    merged: dict[str, Blocklist] = {}
    sources: list[tuple[str, str]] = []
    if not replace_defaults:
        sources.append((default_catalog_text(), "lists.toml (built in)"))
    for path in extra:
        try:
            sources.append((Path(path).read_text(encoding="utf-8"), str(path)))
        except OSError as exc:
            raise CatalogError(f"cannot read catalog {path}: {exc.strerror}") from None
    for text, source in sources:
        for raw, bl in _read(text, source):
            if bl is None or raw.get("enabled", True) is False:
                merged.pop(str(raw.get("id")), None)
            else:
                merged[bl.id] = bl
    if not merged:
        raise CatalogError("the catalog has no lists")
    if dqs_key is not None:
        dqs_key = dqs_key.strip().lower()
        if not _DQS_KEY.fullmatch(dqs_key):
            raise CatalogError("BLCHECK_SPAMHAUS_DQS_KEY does not look like a DQS key")
    active: list[Blocklist] = []
    unavailable: list[Blocklist] = []
    for bl in merged.values():
        if dqs_key and bl.dqs_zone:
            # People see the DQS zone; only queries carry the key.
            active.append(replace(bl, zone=bl.dqs_zone, query_zone=f"{dqs_key}.{bl.dqs_zone}"))
        elif bl.requires_key:
            unavailable.append(bl)
        else:
            active.append(bl)
    return Catalog(tuple(active), tuple(unavailable))


def catalog_from_env(
    files: Sequence[str | Path] = (), env: dict[str, str] | None = None
) -> Catalog:
    """The catalog as configured: `BLCHECK_CATALOG` (os.pathsep-separated) plus `files`."""
    env = dict(os.environ) if env is None else env
    extra: list[str | Path] = [p for p in env.get("BLCHECK_CATALOG", "").split(os.pathsep) if p]
    extra.extend(files)
    return load_catalog(extra, dqs_key=env.get("BLCHECK_SPAMHAUS_DQS_KEY") or None)
