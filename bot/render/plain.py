"""Results as plain text for a terminal, and as the command line's JSON contract."""

from __future__ import annotations

from typing import Any

from bot.dnsbl.decode import ALLOWED, CLEAN, ERROR, LISTED, UNKNOWN
from bot.dnsbl.health import Health
from bot.dnsbl.results import ListCheck, Problem, Report

RESOLVER_ADVICE = {
    "public-resolver": (
        "Spamhaus refuses queries from public and big-cloud resolvers: run your own recursive "
        "resolver (e.g. Unbound without forwarding) or set BLCHECK_SPAMHAUS_DQS_KEY."
    ),
    "refused": (
        "A list refused this resolver (shared resolvers are blocked): run your own recursive "
        "resolver."
    ),
    "volume": "A list refused this resolver for sending too many queries (free-use limit).",
    "rewrite": (
        "Answers outside 127.0.0.0/8 came back: the resolver rewrites answers (NXDOMAIN "
        "hijacking or filtering). Use a resolver that does not."
    ),
    "key": "Spamhaus rejected the DQS key: check BLCHECK_SPAMHAUS_DQS_KEY.",
}


def _check_line(report: Report, check: ListCheck) -> list[str]:
    bl = check.list
    label = {LISTED: "listed", ERROR: "error", UNKNOWN: "unknown", ALLOWED: "allowed"}.get(
        check.status, check.status
    )
    if check.status == LISTED and not check.counts_as_listing:
        label = "info"
    scope = f" [{bl.scope} scope]" if bl.scope in ("range", "asn") else ""
    codes = " ".join(check.codes)
    what = "; ".join(check.meanings) or check.detail or ""
    lines = [f"  {label:8} {bl.name}{scope}  {codes}  {what}".rstrip()]
    if check.reason:
        lines.append(f"           reason: {check.reason}")
    if check.unreliable and check.status != ERROR:
        lines.append(f"           unreliable: {check.unreliable}")
    if check.status == LISTED:
        url = report.delist_url(check) or report.lookup_url(check)
        if url:
            lines.append(f"           {'delist' if report.delist_url(check) else 'lookup'}: {url}")
        if bl.removal and check.counts_as_listing:
            lines.append(f"           how: {bl.removal}")
    return lines


def verdict_line(report: Report) -> str:
    via = f" ({report.via})" if report.via else ""
    total = len(report.checks)
    listed = len(report.listings)
    failed = len(report.failures)
    name = f"{report.query}{via}"
    if report.query != report.target and not report.via:
        name = f"{report.target} -> {report.query}"
    tail = f"; {failed} could not be checked" if failed else ""
    if listed:
        return f"{name}: LISTED on {listed} of {total} lists{tail}"
    if failed:
        return f"{name}: no listing found, but {failed} of {total} lists could not be checked"
    return f"{name}: clean on all {total} lists"


def render_report(report: Report) -> str:
    lines = [verdict_line(report)]
    for status in (LISTED, ERROR, UNKNOWN, ALLOWED):
        for check in report.by_status(status):
            lines.extend(_check_line(report, check))
    clean = len(report.by_status(CLEAN))
    if clean:
        lines.append(f"  clean    {clean} lists")
    return "\n".join(lines)


def advice(reports: list[Report]) -> list[str]:
    causes = {c.cause for r in reports for c in r.checks if c.cause}
    return [RESOLVER_ADVICE[c] for c in sorted(causes) if c in RESOLVER_ADVICE]


def render_text(reports: list[Report], problems: list[Problem]) -> str:
    parts = [f"{p.target}: {p.message}" for p in problems]
    parts.extend(render_report(r) for r in reports)
    notes = advice(reports)
    if notes:
        parts.append("\n".join(f"Note: {n}" for n in notes))
    return "\n\n".join(parts)


def check_json(report: Report, check: ListCheck) -> dict[str, Any]:
    return {
        "list": check.list.id,
        "name": check.list.name,
        "zone": check.list.zone,
        "status": check.status,
        "codes": list(check.codes),
        "meanings": list(check.meanings),
        "reason": check.reason,
        "delist_url": report.delist_url(check) if check.status == LISTED else None,
        "lookup_url": report.lookup_url(check),
        "informational": check.informational,
        "counts_as_listing": check.counts_as_listing,
        "scope": check.list.scope,
        "cause": check.cause,
        "detail": check.detail,
        "unreliable": check.unreliable,
    }


def report_json(report: Report) -> dict[str, Any]:
    return {
        "target": report.target,
        "address": report.query,
        "kind": report.kind,
        "via": report.via,
        "verdict": report.verdict,
        "checks": [check_json(report, c) for c in report.checks],
    }


def run_json(
    reports: list[Report], problems: list[Problem], health: dict[str, Health] | None = None
) -> dict[str, Any]:
    return {
        "results": [report_json(r) for r in reports],
        "problems": [{"target": p.target, "message": p.message, "status": p.status}
                     for p in problems],
        "advice": advice(reports),
        "health": {k: {"status": h.status, "detail": h.detail} for k, h in (health or {}).items()},
    }
