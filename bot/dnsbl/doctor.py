"""Is this resolver fit for blocklist queries? Each list's RFC 5782 test points through it, timed,
and one finding per problem with what to fix: a refused public resolver (Spamhaus, URIBL), a
rewriting resolver (answers outside 127.0.0.0/8, NXDOMAIN hijacking), dead or world-listing
lists, lists that do not answer, and slow ones."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bot.dnsbl.catalog import Blocklist, Catalog
from bot.dnsbl.health import (
    BLOCKED,
    LISTS_WORLD,
    NOT_ANSWERING,
    OK,
    UNREACHABLE,
    UNTESTED,
    WRONG_ANSWER,
    HealthMonitor,
)
from bot.dnsbl.transport import DnsClient
from bot.i18n import Messages

SLOW = 1.0  # seconds: a list slower than this through this resolver holds every answer back


@dataclass(frozen=True)
class Finding:
    list_id: str
    name: str
    problem: str  # a health status, or "slow"
    detail: str
    advice: str
    seconds: float


async def examine(client: DnsClient, catalog: Catalog, t: Messages) -> tuple[list[Finding], int]:
    """(problems, lists examined). Fresh queries; nothing is cached between runs."""
    monitor = HealthMonitor(client, ttl=0.0)

    async def one(bl: Blocklist) -> tuple[Blocklist, str, str, str | None, float]:
        start = time.monotonic()
        health = await monitor.probe(bl)
        return bl, health.status, health.detail, health.cause, time.monotonic() - start

    results = await asyncio.gather(*(one(bl) for bl in catalog))
    findings: list[Finding] = []
    for bl, status, detail, cause, seconds in results:
        if status in (OK, UNTESTED):
            if seconds > SLOW and status == OK:
                findings.append(Finding(bl.id, bl.name, "slow", f"{seconds:.1f} s",
                                        t("doctor.slow", seconds=f"{seconds:.1f}"), seconds))
            continue
        keys = {BLOCKED: f"doctor.blocked.{cause}" if cause else "doctor.blocked",
                LISTS_WORLD: "doctor.lists_world", NOT_ANSWERING: "doctor.not_answering",
                UNREACHABLE: "doctor.unreachable", WRONG_ANSWER: "doctor.wrong_answer"}
        key = keys.get(status, "doctor.other")
        try:
            advice = t(key)
        except KeyError:
            advice = t("doctor.blocked")
        findings.append(Finding(bl.id, bl.name, status, detail, advice, seconds))
    rewriting = [f for f in findings if "outside 127" in f.detail or f.problem == LISTS_WORLD]
    if len(rewriting) >= max(3, len(catalog) // 2):
        # Most lists "list the world": the resolver, not the lists, is at fault.
        findings.insert(0, Finding("*", "resolver", "rewriting", "", t("doctor.rewriting"), 0.0))
    return findings, len(results)


def report(t: Messages, findings: list[Finding], examined: int, resolver: str) -> list[str]:
    """One line per problem, with the fix; or one line saying all is well."""
    if not findings:
        return [t("doctor.fine", count=examined, resolver=resolver)]
    lines = [t("doctor.summary", problems=len(findings), count=examined, resolver=resolver)]
    for f in findings:
        detail = f" ({f.detail})" if f.detail else ""
        lines.append(f"{f.name}: {f.problem}{detail}. {f.advice}")
    return lines
