"""Settings shared by the command line and the bot: where to send DNS, which catalog, timeouts."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

from bot.dnsbl.transport import DEFAULT_PORT, Nameserver
from bot.errors import ConfigError

DEFAULT_TIMEOUT = 2.0


def system_nameservers() -> list[Nameserver]:
    """The resolvers in /etc/resolv.conf, the default when none is configured."""
    import dns.resolver

    try:
        resolver = dns.resolver.Resolver(configure=True)
    except (dns.resolver.NoResolverConfiguration, OSError):
        raise ConfigError(
            "no nameserver configured and /etc/resolv.conf has none: use --nameserver HOST[:PORT]"
        ) from None
    return [Nameserver(str(ns), DEFAULT_PORT) for ns in resolver.nameservers]


def nameservers(
    given: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> list[Nameserver]:
    """`--nameserver` values, else `BLCHECK_NAMESERVERS` (comma or space separated), else the
    system resolver."""
    env = os.environ if env is None else env
    texts = list(given) or [t for t in re.split(r"[\s,]+", env.get("BLCHECK_NAMESERVERS", "")) if t]
    if texts:
        return [Nameserver.parse(t) for t in texts]
    return system_nameservers()


def timeout(value: str | float | None, env: Mapping[str, str] | None = None) -> float:
    env = os.environ if env is None else env
    raw = value if value is not None else env.get("BLCHECK_TIMEOUT", DEFAULT_TIMEOUT)
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigError(f"timeout {raw!r} is not a number of seconds") from None
    if not 0.05 <= seconds <= 60:
        raise ConfigError("timeout must be between 0.05 and 60 seconds")
    return seconds
