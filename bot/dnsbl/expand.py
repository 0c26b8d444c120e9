"""From targets to queried items: hostnames to addresses, domains and email to MX hosts.

These few lookups go through dnspython's async resolver, pointed at the same nameservers as the
blocklist queries (never a resolver the user did not choose).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver

from bot.dnsbl.transport import Nameserver
from bot.i18n import Text
from bot.targets import Target, refusal

MAX_MX_HOSTS = 5
MAX_ADDRESSES_PER_NAME = 8


@dataclass(frozen=True, slots=True)
class Item:
    """One address or domain to query against every list of its kind."""

    target: str
    query: str
    kind: str  # ip4, ip6, domain
    via: str | None = None


def make_resolver(nameservers: Sequence[Nameserver], timeout: float) -> dns.asyncresolver.Resolver:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(ns.host, ns.port) for ns in nameservers]
    resolver.timeout = timeout / 2
    resolver.lifetime = timeout
    return resolver


class Expander:
    """Turns targets into items; notes why a name gave nothing (`problems`)."""

    def __init__(self, resolver: dns.asyncresolver.Resolver) -> None:
        self.resolver = resolver

    async def _addresses(self, name: str) -> tuple[list[str], Text | None]:
        """A and AAAA of `name`; the second value explains an empty or failed result."""

        async def one(rdtype: str) -> list[str] | Text:
            try:
                answer = await self.resolver.resolve(name, rdtype, search=False)
                return [rd.to_text() for rd in answer][:MAX_ADDRESSES_PER_NAME]
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                return []
            except dns.resolver.NoNameservers:
                return Text("lookup.no_answer")
            except dns.exception.Timeout:
                return Text("lookup.timeout")
            except dns.exception.DNSException as exc:
                return Text("lookup.failed", error=exc.__class__.__name__)

        results = await asyncio.gather(one("A"), one("AAAA"))
        found = [a for r in results if isinstance(r, list) for a in r]
        failure = next((r for r in results if isinstance(r, Text)), None)
        return found, failure

    async def _mx_hosts(self, domain: str) -> tuple[list[str], Text | None]:
        try:
            answer = await self.resolver.resolve(domain, "MX", search=False)
        except dns.resolver.NXDOMAIN:
            return [], Text("lookup.nxdomain", domain=domain)
        except dns.resolver.NoAnswer:
            return [domain], None  # RFC 5321 §5.1: no MX means the domain itself receives mail
        except dns.exception.Timeout:
            return [], Text("lookup.mx_timeout")
        except dns.exception.DNSException:
            return [], Text("lookup.mx_failed")
        hosts = sorted(answer, key=lambda rd: rd.preference)
        names = [rd.exchange.to_text(omit_final_dot=True).lower() for rd in hosts]
        names = [n for n in names if n and n != "."]  # null MX (RFC 7505): accepts no mail
        return list(dict.fromkeys(names))[:MAX_MX_HOSTS], None

    async def expand(self, target: Target) -> tuple[list[Item], list[Text], bool]:
        """(items, notes, lookup_failed) for one target."""
        items: list[Item] = []
        notes: list[Text] = []
        failed = False
        if target.kind in ("ip", "range"):
            for addr in target.addresses:
                kind = "ip4" if addr.version == 4 else "ip6"
                items.append(Item(target.text, str(addr), kind))
            return items, notes, failed
        assert target.name is not None and target.domain is not None
        if target.kind == "host":
            found, why = await self._addresses(target.name)
            self._add_addresses(items, notes, target, found, target.name)
            if why:
                notes.append(Text("lookup.of", name=target.name, why=why))
                failed = True
            elif not found:
                notes.append(Text("lookup.no_address", name=target.name))
        items.append(Item(target.text, target.domain, "domain"))
        if target.kind in ("domain", "email") and target.name not in ("test", "invalid"):
            hosts, why = await self._mx_hosts(target.name)
            if why:
                notes.append(why)
                failed = failed or why.key != "lookup.nxdomain"
            looked_up = await asyncio.gather(*(self._addresses(h) for h in hosts))
            for host, (found, host_why) in zip(hosts, looked_up, strict=True):
                self._add_addresses(items, notes, target, found, f"MX {host}")
                if host_why:
                    notes.append(Text("lookup.of", name=f"MX {host}", why=host_why))
                    failed = True
        return items, notes, failed

    @staticmethod
    def _add_addresses(
        items: list[Item], notes: list[Text], target: Target, found: list[str], via: str
    ) -> None:
        import ipaddress

        for text in found:
            addr = ipaddress.ip_address(text)
            why = refusal(addr)
            if why:
                notes.append(Text("lookup.of", name=via, why=why))
                continue
            items.append(Item(target.text, text, "ip4" if addr.version == 4 else "ip6", via))
