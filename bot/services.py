"""What the Slack listeners, the console and later the scheduler share for the bot's lifetime:
the settings and one blocklist checker (one DNS client, one cache, one health monitor)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot import config
from bot.channels import ChannelSettings, data_dir
from bot.dnsbl.budget import Budgets, load_budgets
from bot.dnsbl.catalog import Catalog, catalog_from_env
from bot.dnsbl.checker import Checker
from bot.dnsbl.transport import Nameserver
from bot.settings import Settings
from bot.targets import Target

if TYPE_CHECKING:
    from bot.watch.service import Watching


@dataclass
class Services:
    settings: Settings
    checker: Checker
    channels: ChannelSettings = field(
        default_factory=lambda: ChannelSettings(data_dir() / "channels.json"))
    watching: Watching | None = None  # None: no database (watch commands say so)

    @classmethod
    def create(cls, settings: Settings, catalog: Catalog | None = None,
               nameservers: Sequence[Nameserver] | None = None,
               timeout: float | None = None, channels: ChannelSettings | None = None,
               budgets: Budgets | None = None) -> Services:
        catalog = catalog if catalog is not None else catalog_from_env()
        servers = list(nameservers) if nameservers is not None else config.nameservers()
        checker = Checker.for_nameservers(catalog, servers, timeout=config.timeout(timeout))
        checker.budgets = budgets if budgets is not None else Budgets(load_budgets())
        if channels is None:
            return cls(settings, checker)
        return cls(settings, checker, channels)

    @property
    def catalog(self) -> Catalog:
        return self.checker.catalog

    def lists_for(self, targets: Sequence[Target]) -> int:
        """How many lists a check of `targets` asks (for "Checking … against N lists")."""
        kinds: set[str] = set()
        for target in targets:
            if target.kind in ("ip", "range"):
                kinds.update("ip6" if a.version == 6 else "ip4" for a in target.addresses)
            else:
                kinds.update(("ip4", "domain"))  # its addresses (usually IPv4) and its domain
        return sum(1 for bl in self.catalog if bl.kinds & kinds)

    async def aclose(self) -> None:
        if self.watching is not None:
            await self.watching.close()
        await self.checker.client.aclose()
