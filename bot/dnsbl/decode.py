"""Turning a list's A records into one state, with the list's own meaning for each code.

Pure functions over the catalog: no DNS, no I/O. The order follows the reference's result model:
answers outside 127.0.0.0/8 are an error (a rewriting resolver or a parked list domain); then the
list's own rules, first match wins (bit rules all apply); a code no rule knows is `unknown`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from bot.dnsbl.catalog import Blocklist, CodeRule

LISTED = "listed"
CLEAN = "clean"
ALLOWED = "allowed"
ERROR = "error"
UNKNOWN = "unknown"
STATES = (LISTED, CLEAN, ALLOWED, ERROR, UNKNOWN)

_LOOPBACK_LOW = int(ipaddress.IPv4Address("127.0.0.0"))
_LOOPBACK_HIGH = int(ipaddress.IPv4Address("127.255.255.255"))


@dataclass(frozen=True, slots=True)
class Decoded:
    state: str
    codes: tuple[str, ...]
    meanings: tuple[str, ...]
    informational: bool = False
    cause: str | None = None


def _rules_for(bl: Blocklist, value: int) -> list[CodeRule]:
    for rule in bl.codes:
        if rule.bit is None and rule.matches(value):
            return [rule]
    return [rule for rule in bl.codes if rule.bit is not None and rule.matches(value)]


def decode(bl: Blocklist, addresses: Sequence[str]) -> Decoded:
    """The state of one (target, list) pair from every A record it answered."""
    states: list[str] = []
    meanings: list[str] = []
    informational: list[bool] = []
    cause: str | None = None
    for text in addresses:
        try:
            value = int(ipaddress.IPv4Address(text))
        except ValueError:
            states.append(ERROR)
            informational.append(False)
            meanings.append(f"malformed answer {text!r}")
            continue
        if not _LOOPBACK_LOW <= value <= _LOOPBACK_HIGH:
            states.append(ERROR)
            informational.append(False)
            cause = cause or "rewrite"
            meanings.append(
                f"answer {text} is outside 127.0.0.0/8: the resolver or a parked list domain "
                "is rewriting answers"
            )
            continue
        rules = _rules_for(bl, value)
        if not rules:
            states.append(UNKNOWN)
            informational.append(False)
            meanings.append(f"code {text} is not documented for this list")
            continue
        for rule in rules:
            states.append({"neutral": CLEAN}.get(rule.state, rule.state))
            meanings.append(rule.meaning)
            informational.append(rule.informational or bl.role == "info")
            if rule.state == ERROR:
                cause = cause or rule.cause
    if not addresses:
        return Decoded(CLEAN, (), ())
    for state in (ERROR, LISTED, ALLOWED, CLEAN, UNKNOWN):
        if state in states:
            break
    listed_info = [i for s, i in zip(states, informational, strict=True) if s == LISTED]
    return Decoded(
        state=state,
        codes=tuple(addresses),
        meanings=tuple(dict.fromkeys(meanings)),
        informational=state == LISTED and all(listed_info),
        cause=cause if state == ERROR else None,
    )
