"""What the user typed, turned into things a blocklist can list: addresses and domains.

Parsing is pure and bounded (no DNS): IPv4, IPv6, CIDR ranges up to a limit, hostnames, domains
and email addresses. Addresses that no public blocklist can list (private, loopback, reserved,
the like) are refused here with a sentence that says why, so they are never queried.
Documentation addresses (RFC 5737, RFC 3849) are checked, with a caveat: people paste them from
examples and anonymised bounces, and a list simply answers that they are not listed.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

from bot.errors import TargetError
from bot.i18n import Text

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_RANGE = 256  # a check; a watch may be larger when the operator allows it (BLCHECK_WATCH_MAX_RANGE)
WATCH_RANGE_CEILING = 65_536  # a /16
MAX_TARGETS = 20
MAX_TARGET_LENGTH = 320


#: RFC 5782 test points: every working list answers the first of each pair, none the second.
TEST_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("127.0.0.2", "127.0.0.1", "::ffff:7f00:2", "::ffff:7f00:1")
)
TEST_DOMAINS = frozenset({"test", "invalid"})

_DOCUMENTATION = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
)
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Target:
    """One thing the user asked about, before any DNS lookup."""

    text: str
    kind: str  # "ip", "range", "host", "domain", "email"
    addresses: tuple[IPAddress, ...] = ()
    name: str | None = None  # hostname or the domain of a domain/email target
    domain: str | None = None  # registered domain (Public Suffix List)

    @property
    def caveat(self) -> Text | None:
        return caveat(self.addresses)


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package: offline, no download


def is_documentation(addr: IPAddress) -> bool:
    """RFC 5737 / RFC 3849 example addresses: checkable, but no real list lists them."""
    return any(addr in net for net in _DOCUMENTATION)


def refusal(addr: IPAddress) -> Text | None:
    """Why `addr` cannot be on a public blocklist, or None when it can be checked."""
    if addr in TEST_ADDRESSES:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return refusal(addr.ipv4_mapped)
    if is_documentation(addr):
        return None
    if addr.is_loopback:
        kind = "loopback"
    elif addr.is_unspecified:
        kind = "unspecified"
    elif addr.is_multicast:
        kind = "multicast"
    elif addr.is_link_local:
        kind = "link_local"
    elif addr.is_private:
        kind = "private"
    elif addr.is_reserved or not addr.is_global:
        kind = "reserved"
    else:
        return None
    return Text(f"target.refused.{kind}", address=str(addr))


def caveat(addresses: tuple[IPAddress, ...]) -> Text | None:
    """A note for addresses that can be checked but that no real list will ever list."""
    for addr in addresses[:1]:
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        if is_documentation(addr):
            return Text("target.documentation", address=str(addr))
    return None


def _address(text: str) -> IPAddress | None:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped and addr not in TEST_ADDRESSES:
        return addr.ipv4_mapped  # ::ffff:a.b.c.d is the IPv4 sender a.b.c.d
    return addr


def _range(text: str, max_range: int) -> Target:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise TargetError(Text("target.bad_range", text=text)) from None
    if net.num_addresses > max_range:
        raise TargetError(Text("target.too_big", text=text, size=f"{net.num_addresses:,}", limit=max_range,
                               prefix=32 - (max_range.bit_length() - 1)))
    why = refusal(net.network_address)
    if why is None and net.num_addresses > 1:
        why = refusal(net.broadcast_address)
    if why is not None:
        raise TargetError(Text("target.not_public_range", text=text, why=why))
    return Target(text, "range", tuple(net))


def range_network(text: str) -> IPNetwork | None:
    """The network a range target names, without listing its addresses (None if not a range)."""
    if "/" not in text:
        return None
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def normalize_domain(text: str) -> str:
    """Lower-case ASCII (IDNA) form of a domain name, or TargetError."""
    name = text.strip().rstrip(".").lower()
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise TargetError(Text("target.bad_domain", text=text)) from None
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise TargetError(Text("target.bad_domain", text=text))
    return name


def registered_domain(name: str) -> str | None:
    """The registrable domain (`mail.example.co.uk` -> `example.co.uk`), from the PSL."""
    result = _psl().privatesuffix(name)
    return str(result) if result else None


def _named(text: str, kind: str) -> Target:
    if kind == "email":
        local, _, host = text.rpartition("@")
        if not local or not host:
            raise TargetError(Text("target.bad_email", text=text))
        name = normalize_domain(host)
    else:
        name = normalize_domain(text)
    if name in TEST_DOMAINS:
        return Target(text, "domain", name=name, domain=name)
    if "." not in name:
        raise TargetError(Text("target.neither", text=text))
    if name.rsplit(".", 1)[1].isdigit():
        raise TargetError(Text("target.incomplete_ip", text=text))
    domain = registered_domain(name)
    if domain is None:
        raise TargetError(Text("target.public_suffix", text=text))
    if kind != "email":
        kind = "domain" if domain == name else "host"
    return Target(text, kind, name=name, domain=domain)


def parse_target(text: str, max_range: int = MAX_RANGE) -> Target:
    """One target from one word of user input."""
    text = text.strip().strip("<>,;()[]\"'")
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if not text:
        raise TargetError(Text("target.nothing"))
    if len(text) > MAX_TARGET_LENGTH:
        raise TargetError(Text("target.too_long", text=text[:40]))
    if "/" in text:
        return _range(text, max_range)
    addr = _address(text)
    if addr is not None:
        why = refusal(addr)
        if why:
            raise TargetError(why)
        return Target(text, "ip", (addr,))
    if "@" in text:
        return _named(text, "email")
    return _named(text, "domain")


def split_words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,;]+", text) if w]


def parse_targets(
    words: list[str], max_range: int = MAX_RANGE, max_targets: int = MAX_TARGETS
) -> tuple[list[Target], list[TargetError]]:
    """Every valid target and every refusal, so one typo does not hide the other answers."""
    if len(words) > max_targets:
        raise TargetError(Text("target.too_many", count=len(words), limit=max_targets))
    targets: list[Target] = []
    errors: list[TargetError] = []
    seen: set[str] = set()
    for word in words:
        try:
            target = parse_target(word, max_range)
        except TargetError as exc:
            errors.append(exc)
            continue
        key = target.text.lower()
        if key not in seen:
            seen.add(key)
            targets.append(target)
    return targets, errors
