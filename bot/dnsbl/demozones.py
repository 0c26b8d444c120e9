"""rbldnsd zones that mirror a catalog: every list's real zone name, its test points, and
whatever listings a test, the benchmark or the demo wants. Served on loopback only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from bot.dnsbl.catalog import Blocklist, Catalog
from bot.dnsbl.localserver import Entry, LocalBlocklistServer, Zone, dataset_for


def sample_code(bl: Blocklist) -> str:
    """An answer this list gives for a real listing (or an allow-list hit)."""
    for wanted in ("listed", "allowed"):
        for rule in bl.codes:
            if rule.state != wanted:
                continue
            if rule.bit is not None:
                return f"127.0.0.{rule.bit}"
            if rule.low is not None:
                value = rule.low if rule.last is None else (rule.low & ~0xFF) | rule.last
                return str(ipaddress.IPv4Address(value))
    return "127.0.0.2"


def zones_for(
    catalog: Catalog | Iterable[Blocklist],
    listings: Mapping[str, Iterable[Entry]] | None = None,
    *,
    broken: Mapping[str, str] | None = None,
) -> list[Zone]:
    """One zone per list and kind. `broken` maps a list id to "world" (lists everything) or
    "dead" (no test points), to exercise the health probe."""
    listings = listings or {}
    broken = broken or {}
    zones: list[Zone] = []
    for bl in catalog:
        for kind, (positive, _negative) in bl.test_points.items():
            entries: list[Entry] = []
            mode = broken.get(bl.id)
            if mode != "dead":
                code = bl.test_answer or sample_code(bl)
                entries.append(Entry(positive, code, f"{bl.name} test point"))
            if mode == "world":
                world = {"ip4": ["0.0.0.0/1", "128.0.0.0/1"], "ip6": ["::/1", "8000::/1"],
                         "domain": ["*"]}[kind]
                entries.extend(Entry(k, "127.0.0.2", "Listed: domain expired") for k in world)
                entries.append(Entry("invalid", "127.0.0.2") if kind == "domain" else
                               Entry(_negative, "127.0.0.2"))
            for entry in listings.get(bl.id, ()):
                is_v6 = ":" in entry.key
                entry_kind = "domain" if not _is_address(entry.key) else ("ip6" if is_v6 else "ip4")
                if entry_kind == kind:
                    entries.append(entry)
            zones.append(Zone(bl.query_zone, dataset_for(kind), entries))
    return zones


def _is_address(key: str) -> bool:
    try:
        ipaddress.ip_network(key, strict=False)
        return True
    except ValueError:
        return False


#: What the demo server lists besides every list's test points: a whole /24 on Spamhaus XBL
#: (an infected network) and one address of it on SpamCop as well.
DEMO_LISTINGS = {
    "spamhaus-zen": [("11.22.33.0/24", "127.0.0.4",
                      "Listed by XBL, see https://check.spamhaus.org/query/ip/$")],
    "spamcop": [("11.22.33.44", "127.0.0.2", "Blocked - see https://www.spamcop.net/bl.shtml?$")],
}


def start_demo_server(catalog: Catalog) -> LocalBlocklistServer:
    """rbldnsd on loopback serving `catalog`'s zones with the demo listings."""
    listings = {k: [Entry(*e) for e in v] for k, v in DEMO_LISTINGS.items()}
    return LocalBlocklistServer(zones_for(catalog, listings)).start()
