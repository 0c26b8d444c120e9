"""Why one recipient failed: provider rules, then a named blocklist, then the reason tables in
Sisimai's precedence order, then fallbacks. All signatures come from `bot/data/bounce.toml`."""

from __future__ import annotations

import ipaddress
import re
import unicodedata

from bot.bounce.model import Failure
from bot.bounce.rules import Blocklist, Provider, Rules
from bot.targets import is_documentation

_CONTINUATION = re.compile(r"\s[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}\s)?")


def normalize(text: str) -> str:
    """One line, lower case, Postfix/Gmail continuation prefixes ("550-5.7.1") dropped, and
    compatibility forms folded (NFKC): full-width letters and U+3000 spaces, half-width katakana
    (「ﾒｰﾙ」) and no-break spaces match the phrases as written in bounce.toml."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", " ", text).strip()
    head, rest = text[:12], text[12:]
    return (head + _CONTINUATION.sub(" ", rest)).lower()


def _domain(address: str | None) -> str | None:
    return address.rsplit("@", 1)[1] if address and "@" in address else None


def find_provider(rules: Rules, f: Failure, text: str) -> Provider | None:
    found = rules.provider_for_host(f.remote_mta) or rules.provider_for_host(_domain(f.recipient))
    if found is not None:
        return found
    contains = text.__contains__
    return next((p for p in rules.providers if any(map(contains, p.patterns))), None)


def find_blocklist(rules: Rules, text: str) -> Blocklist | None:
    contains = text.__contains__
    return next((b for b in rules.blocklists if any(map(contains, b.patterns))), None)


def refused_ip(rules: Rules, f: Failure) -> str | None:
    """The sending IP the reply names (never the remote MX's own address)."""
    for pattern in rules.refused_ip:
        for m in pattern.finditer(f.diagnostic):
            candidate = m.group(1).strip(".:")
            try:
                addr = ipaddress.ip_address(candidate)
            except ValueError:
                continue
            if candidate == f.remote_ip or (not addr.is_global and not is_documentation(addr)):
                continue  # the remote MX itself, or an address no list can list
            return str(addr)
    return None


def reason_of(rules: Rules, f: Failure, text: str, provider: Provider | None,
              blocklist: Blocklist | None, provider_text: str | None = None) -> tuple[str, str | None]:
    """(reason, provider-specific remedy or None). `provider_text`: what the provider's own rules
    read, the reply with the notice around it (au says "account is disabled" outside the reply)."""
    if provider is not None:
        contains = (provider_text or text).__contains__
        for rule in provider.rules:
            if any(map(contains, rule.phrases)):
                return rule.reason, rule.remedy
    if blocklist is not None:
        return blocklist.reason, None
    # Sisimai's order: each reason in turn, by its status codes or its phrases. A specific
    # status (not x.y.0) that belongs to another reason vetoes a phrase-only match of a reason
    # marked `status_decides` ("550 5.2.1 ... User unknown" is a filter, not an unknown user).
    specific = f.status if f.status and not f.status.endswith(".0") else None
    status_owner = next((n for n in (*rules.first_pass, *rules.second_pass)
                         if specific and specific in rules.reasons[n].statuses), None)
    for name in rules.first_pass:
        reason = rules.reasons[name]
        if specific and specific in reason.statuses:
            return name, None
        if reason.phrase_in(text):
            if reason.status_decides and status_owner not in (None, name):
                continue
            if name == "userunknown" and f.stage == "DATA":
                return "filtered", None  # the address was accepted at RCPT: refused after DATA
            if name == "rejected" and f.stage not in (None, "MAIL") and "sender" not in text:
                continue  # "rejected" is about the envelope sender: only at MAIL, or said so
            return name, None
    if status_owner is not None:
        return status_owner, None
    for name in rules.second_pass:
        if rules.reasons[name].phrase_in(text):
            return name, None
    if f.diagnostic_type in ("x-unix",):
        return "mailererror", None
    if f.action in ("delayed", "expired") and not f.reply_code:
        return "expired", None
    if f.stage in ("connect", "HELO"):
        return "blocked", None
    for name in ("contenterror", "securityerror"):
        if f.status and f.status.startswith(rules.reasons[name].status_prefixes or ("\0",)):
            return name, None
    return ("onhold" if text else "undefined"), None


def classify(rules: Rules, f: Failure) -> None:
    """Fill in reason, blocklist, provider, refused IP, explanation, remedy and links.

    The server's reply decides; the reporting MTA's own words (`f.context`) count for the
    provider's rules and, when the reply decides nothing, for everything: a Japanese notice whose
    only reason is 「メールボックスの容量を超えています」 must not stay "onhold"."""
    text = normalize(f.diagnostic)
    full = normalize(f"{f.diagnostic} {f.context}") if f.context else text
    provider = find_provider(rules, f, full)
    blocklist = find_blocklist(rules, text)
    f.reason, provider_remedy = reason_of(rules, f, text, provider, blocklist, full)
    if f.reason in ("onhold", "undefined") and full != text:
        blocklist = blocklist or find_blocklist(rules, full)
        f.reason, provider_remedy = reason_of(rules, f, full, provider, blocklist)
    f.provider = provider.id if provider else None
    f.blocklist = blocklist.id if blocklist else None
    if f.reason in ("blocked", "badreputation", "rejected", "requireptr", "norelaying") or blocklist:
        f.refused_ip = refused_ip(rules, f)
    reason = rules.reasons[f.reason]
    f.explanation = blocklist.explanation if blocklist else reason.explanation
    f.remedy = provider_remedy or (blocklist.remedy if blocklist else None) or reason.remedy
    links = [blocklist.delist] if blocklist and blocklist.delist else []
    links += list(provider.links) if provider else []
    f.links = list(dict.fromkeys(links))
