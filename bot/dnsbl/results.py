"""Result types shared by the checker, the renderers, the bot and the command line."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.dnsbl.catalog import Blocklist
from bot.dnsbl.decode import ALLOWED, CLEAN, ERROR, LISTED, UNKNOWN
from bot.i18n import Text


@dataclass(slots=True)
class ListCheck:
    """One (queried item, list) pair, in exactly one of the five states."""

    list: Blocklist
    status: str = UNKNOWN
    codes: tuple[str, ...] = ()
    meanings: tuple[str, ...] = ()
    reason: str | None = None  # the list's TXT answer
    informational: bool = False
    cause: str | None = None  # machine-readable error cause (public-resolver, volume, ...)
    detail: str | None = None  # why a check is unknown (timeout, SERVFAIL, ...)
    unreliable: str | None = None  # the list failed its health probe: why (English)
    unreliable_why: Text | None = None  # the same, for the reader's language
    done: bool = False

    @property
    def counts_as_listing(self) -> bool:
        """Whether this check makes the verdict "listed" (info lists and sick lists never do)."""
        return self.status == LISTED and not self.informational and self.unreliable is None


@dataclass(slots=True)
class Report:
    """Every list's answer for one queried address or domain."""

    target: str  # what the user typed
    query: str  # the address or domain that was queried
    kind: str  # ip4, ip6 or domain
    via: str | None = None  # how a name led here: "A of mail.example.com", "MX of example.com"
    checks: list[ListCheck] = field(default_factory=list)
    index: int = 0

    def by_status(self, status: str) -> list[ListCheck]:
        return [c for c in self.checks if c.status == status]

    @property
    def listings(self) -> list[ListCheck]:
        return [c for c in self.checks if c.counts_as_listing]

    @property
    def informational(self) -> list[ListCheck]:
        return [c for c in self.checks if c.status == LISTED and not c.counts_as_listing]

    @property
    def failures(self) -> list[ListCheck]:
        return [c for c in self.checks if c.status in (ERROR, UNKNOWN)]

    @property
    def verdict(self) -> str:
        """listed, clean, or unknown (nothing found but some lists could not be checked)."""
        if self.listings:
            return LISTED
        if self.failures:
            return UNKNOWN
        return CLEAN

    def lookup_url(self, check: ListCheck) -> str | None:
        return check.list.url(check.list.lookup_url, self.query)

    def delist_url(self, check: ListCheck) -> str | None:
        return check.list.url(check.list.delist_url, self.query)


@dataclass(frozen=True, slots=True)
class Problem:
    """A target that produced nothing to query (a name that does not resolve, ...)."""

    target: str
    message: Text  # rendered in the reader's language; str() is English
    status: str = "error"  # "error": bad input; "unknown": the lookup itself failed


ALL_STATES = (LISTED, CLEAN, ALLOWED, ERROR, UNKNOWN)
