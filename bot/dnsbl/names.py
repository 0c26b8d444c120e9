"""RFC 5782 query names: the reversed address or the domain, in front of a list's zone."""

from __future__ import annotations

import ipaddress

from bot.dnsbl import wire


def reversed_labels(address: str) -> list[str]:
    """`1.2.3.4` -> 4.3.2.1; IPv6 -> 32 reversed nibbles from the *exploded* form (RFC 5782 §2.4).

    The exploded form matters: reversing the compressed text (`::`) gives a wrong name, a bug
    other checkers shipped.
    """
    addr = ipaddress.ip_address(address)
    if addr.version == 4:
        return str(addr).split(".")[::-1]
    return list(addr.exploded.replace(":", ""))[::-1]


def prefix_for(kind: str, item: str) -> bytes:
    """Wire labels to put in front of a zone for an address (ip4/ip6) or a domain."""
    if kind == "domain":
        return wire.encode_labels(item.split("."))
    return wire.encode_labels(reversed_labels(item))


def query_text(kind: str, item: str, zone: str) -> str:
    """The query name as text (for display and tests)."""
    labels = item.split(".") if kind == "domain" else reversed_labels(item)
    return ".".join([*labels, zone])
