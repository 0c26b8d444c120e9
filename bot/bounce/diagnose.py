"""A bounce in, a diagnosis per failed recipient out; optionally re-check the refused IPs live.

Pure up to the live check, which takes the same blocklist `Checker` the bot and the command line
use (so the diagnosis says "still listed on Spamhaus ZEN" from a real query, not a guess).
"""

from __future__ import annotations

import re
from typing import Any

from bot.bounce import mime
from bot.bounce.classify import classify
from bot.bounce.extract import extract
from bot.bounce.model import Diagnosis, Failure
from bot.bounce.reply import codes, stage_in_reply, stage_of
from bot.bounce.rules import Rules, default_rules
from bot.dnsbl.checker import Checker
from bot.errors import TargetError
from bot.targets import parse_target

_REPLY_LINE = re.compile(r"^[ \t>]{0,8}(?:<<<\s*)?([45]\d\d)[ -](.{3,2000})$", re.M)


def _loose(source: mime.Source, rules: Rules) -> list[Failure]:
    """No known layout: the first error reply in the text, if one is there and a rule knows it."""
    for m in _REPLY_LINE.finditer(source.text[:200_000]):
        line = m.group(0).strip().lstrip("<> ")
        before = source.text[max(0, m.start() - 300):m.start()]
        f = Failure(diagnostic=line, stage=stage_in_reply(line) or stage_of(before))
        f.reply_code, f.status = codes(line)
        classify(rules, f)
        if f.reason not in ("onhold", "undefined"):
            return [f]
    # Well-known refusal sentences without a code (a reply pasted on its own).
    f = Failure(diagnostic=source.text.strip()[:2000])
    classify(rules, f)
    if f.blocklist or (f.provider and f.reason not in ("onhold", "undefined")):
        return [f]
    return []


def diagnose(data: bytes | str, rules: Rules | None = None) -> Diagnosis:
    rules = rules or default_rules()
    source = mime.read(data)
    failures = extract(source)
    for f in failures:
        classify(rules, f)
    if not failures:
        failures = _loose(source, rules)
    result = Diagnosis(is_bounce=bool(failures), failures=failures)
    if source.truncated:
        result.notes.append(f"Only the first {mime.MAX_INPUT // (1024 * 1024)} MB were read.")
    if failures and all(f.inbound for f in failures):
        result.notes.append("These are your server's own rejections of incoming mail (inbound), "
                            "not mail of yours that bounced.")
    return result


async def live_check(result: Diagnosis, checker: Checker) -> None:
    """Re-check each refused IP against the catalog and record what the lists say now."""
    ips = sorted({f.refused_ip for f in result.failures if f.refused_ip and not f.inbound})
    targets = []
    for ip in ips:
        try:
            targets.append(parse_target(ip))
        except TargetError as exc:
            for f in result.failures:
                if f.refused_ip == ip:
                    f.live_check = {"ip": ip, "checked": False, "summary": str(exc)}
    if not targets:
        return
    run = await checker.check_targets(targets)
    for report in run.reports:
        listed = [c.list.name + (f" ({c.meanings[0].split(':')[0]})" if c.meanings else "")
                  for c in report.listings]
        failed = [c.list.name for c in report.failures]
        if listed:
            summary = "still listed on " + ", ".join(listed)
        elif failed:
            summary = (f"not listed on the lists that answered; {len(failed)} of "
                       f"{len(report.checks)} could not be checked")
        else:
            summary = "no longer listed anywhere we check"
        entry: dict[str, Any] = {
            "ip": report.query, "checked": True, "listed_on": [c.list.id for c in report.listings],
            "listed_names": listed, "lists_checked": len(report.checks), "could_not_check": failed,
            "summary": summary,
            # For the reader's language: each list's name and what its code means (untranslated).
            "listings": [[c.list.name, c.meanings[0] if c.meanings else ""] for c in report.listings],
        }
        for f in result.failures:
            if f.refused_ip == report.query:
                f.live_check = entry


def failure_json(f: Failure) -> dict[str, Any]:
    return {
        "recipient": f.recipient, "reply_code": f.reply_code, "status": f.status,
        "remote_mta": f.remote_mta, "stage": f.stage, "permanent": f.permanent,
        "refused_ip": f.refused_ip, "reason": f.reason, "blocklist": f.blocklist,
        "provider": f.provider, "remedy": f.remedy, "live_check": f.live_check,
        "diagnostic": f.diagnostic or None, "explanation": f.explanation, "links": f.links,
        "remote_ip": f.remote_ip, "action": f.action, "inbound": f.inbound,
    }


def diagnosis_json(result: Diagnosis) -> dict[str, Any]:
    return {"is_bounce": result.is_bounce,
            "recipients": [failure_json(f) for f in result.failures],
            "notes": result.notes}
