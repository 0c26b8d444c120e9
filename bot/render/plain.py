"""Results as plain text for a terminal (in the reader's language), and as the command line's
JSON contract (English: it is read by programs)."""

from __future__ import annotations

import unicodedata
from typing import Any

from bot.dnsbl.decode import ALLOWED, CLEAN, ERROR, LISTED, UNKNOWN
from bot.dnsbl.health import Health
from bot.dnsbl.results import ListCheck, Problem, Report
from bot.i18n import DEFAULT_LANG, Messages, messages

#: Resolver problems worth a note under the results (message keys `advice.<cause>`).
ADVICE_CAUSES = ("public-resolver", "refused", "volume", "rewrite", "key")


def _check_line(t: Messages, report: Report, check: ListCheck) -> list[str]:
    bl = check.list
    state = "info" if check.status == LISTED and not check.counts_as_listing else check.status
    label = t(f"cli.state.{state}")
    scope = " " + t(f"cli.scope.{bl.scope}") if bl.scope in ("range", "asn") else ""
    codes = " ".join(check.codes)
    what = "; ".join(t.texts(check.meanings)) or check.detail or ""
    lines = [f"  {_pad(label, 8)} {bl.name}{scope}  {codes}  {what}".rstrip()]
    indent = " " * 11
    if check.reason:
        lines.append(indent + t("cli.reason", text=check.reason))
    if check.unreliable and check.status != ERROR:
        why = check.unreliable_why.render(t) if check.unreliable_why else check.unreliable
        lines.append(indent + t("cli.unreliable", text=why))
    if check.status == LISTED:
        if (url := report.delist_url(check)) is not None:
            lines.append(indent + t("cli.delist", url=url))
        elif (url := report.lookup_url(check)) is not None:
            lines.append(indent + t("cli.lookup", url=url))
        if bl.removal and check.counts_as_listing:
            lines.append(indent + t("cli.how", text=t.text(bl.removal)))
    return lines


def _pad(text: str, width: int) -> str:
    """Left-justify for a terminal, where a CJK character takes two columns."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - columns)


def verdict_line(t: Messages, report: Report) -> str:
    via = f" ({report.via})" if report.via else ""
    total = len(report.checks)
    listed = len(report.listings)
    failed = len(report.failures)
    name = f"{report.query}{via}"
    if report.query != report.target and not report.via:
        name = f"{report.target} -> {report.query}"
    if listed:
        tail = t("cli.verdict.tail", failed=failed) if failed else ""
        return t("cli.verdict.listed", name=name, listed=listed, total=total, tail=tail)
    if failed:
        return t("cli.verdict.unknown", name=name, failed=failed, total=total)
    return t("cli.verdict.clean", name=name, total=total)


def render_report(t: Messages, report: Report) -> str:
    lines = [verdict_line(t, report)]
    for status in (LISTED, ERROR, UNKNOWN, ALLOWED):
        for check in report.by_status(status):
            lines.extend(_check_line(t, report, check))
    clean = len(report.by_status(CLEAN))
    if clean:
        lines.append(f"  {_pad(t('cli.state.clean'), 8)} " + t("cli.clean_count", count=clean))
    return "\n".join(lines)


def advice(t: Messages, reports: list[Report]) -> list[str]:
    causes = {c.cause for r in reports for c in r.checks if c.cause}
    return [t(f"advice.{c}") for c in sorted(causes) if c in ADVICE_CAUSES]


def render_text(t: Messages, reports: list[Report], problems: list[Problem]) -> str:
    parts = [f"{p.target}: {p.message.render(t)}" for p in problems]
    parts.extend(render_report(t, r) for r in reports)
    notes = advice(t, reports)
    if notes:
        parts.append("\n".join(t("cli.note", text=n) for n in notes))
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
        "problems": [{"target": p.target, "message": str(p.message), "status": p.status}
                     for p in problems],
        "advice": advice(messages(DEFAULT_LANG), reports),
        "health": {k: {"status": h.status, "detail": h.detail} for k, h in (health or {}).items()},
    }
