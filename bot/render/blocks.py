"""Check results as Slack messages (Block Kit plus the plain `text` fallback).

Pure: takes the engine's results and a message catalog, returns dicts built with slack_sdk's
Block Kit models. Whatever the input (a /24, twenty targets, kilobytes of TXT), a message stays
inside Block Kit's limits: at most 50 blocks, 3,000 characters a section, 150 a header.
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.dnsbl.checker import CheckRun
from bot.dnsbl.decode import ALLOWED, CLEAN, LISTED
from bot.dnsbl.results import ListCheck, Report
from bot.i18n import Messages
from bot.render.mrkdwn import CONTEXT_LIMIT, HEADER_LIMIT, SECTION_LIMIT, clip, code, escape, link

MAX_BLOCKS = 50
# Slack refuses a message whose blocks total about 13k characters (msg_blocks_too_long, not in
# the docs); keep the text well under it, leaving room for the JSON around it.
MAX_TEXT = 10_000
FOOTER_TEXT = 3_000  # the tail: "more results", "checked in", the buttons with their values
DETAIL_REPORTS = 3  # up to this many queried items are shown list by list; more get a summary
ACTION_RECHECK = "blcheck_recheck"
ACTION_WATCH = "blcheck_watch"
BUTTON_VALUE_LIMIT = 1000  # Slack allows 2,000; two buttons carry it, within FOOTER_TEXT
PENDING = "pending"

ICON = {LISTED: ":no_entry:", CLEAN: ":white_check_mark:", "unknown": ":warning:",
        "error": ":x:", "pending": ":hourglass_flowing_sand:", "info": ":information_source:"}


@dataclass
class Message:
    """What one Slack message carries: blocks and the `text` notifications and screen readers use."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


class _Builder:
    """Adds blocks while there is room; keeps the last few slots for the footer."""

    def __init__(self, limit: int = MAX_BLOCKS, footer: int = 3) -> None:
        self.blocks: list[Block] = []
        self.limit = limit
        self.footer = footer
        self.dropped = 0
        self.chars = 0

    def room(self) -> int:
        return self.limit - self.footer - len(self.blocks)

    def add(self, block: Block) -> bool:
        size = _size(block)
        if self.room() <= 0 or self.chars + size > MAX_TEXT - FOOTER_TEXT:
            self.dropped += 1
            return False
        self.blocks.append(block)
        self.chars += size
        return True

    def tail(self, block: Block) -> None:
        if len(self.blocks) < self.limit:
            self.blocks.append(block)
            self.chars += _size(block)

    def section(self, text: str) -> bool:
        return self.add(SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT))))

    def sections(self, title: str, lines: Sequence[str]) -> int:
        """`lines` under `title`, split over as few sections as fit; returns how many lines fit."""
        chunks: list[tuple[str, int]] = []  # (text, how many of `lines` it holds)
        text, held = title, 0
        for line in lines:
            line = clip(line, SECTION_LIMIT - len(title) - 2)
            if held and len(text) + 1 + len(line) > SECTION_LIMIT:
                chunks.append((text, held))
                text, held = "", 0
            text = f"{text}\n{line}" if text else line
            held += 1
        if held:
            chunks.append((text, held))
        shown = 0
        for text, held in chunks:
            if not self.section(text):
                break
            shown += held
        return shown

    def context(self, text: str, tail: bool = False) -> None:
        block = ContextBlock(elements=[MarkdownTextObject(text=clip(text, CONTEXT_LIMIT))])
        if tail:
            self.tail(block)
        else:
            self.add(block)

    def dicts(self) -> list[dict[str, Any]]:
        return [b.to_dict() for b in self.blocks]


def _size(block: Block) -> int:
    return len(json.dumps(block.to_dict(), ensure_ascii=False))


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(text, HEADER_LIMIT), emoji=True))


def _buttons(t: Messages, asked: str) -> ActionsBlock | None:
    """Recheck and Watch, carrying what was asked; None when that is too long to carry."""
    value = json.dumps({"q": asked}, ensure_ascii=False)
    if len(value) > BUTTON_VALUE_LIMIT:
        return None
    return ActionsBlock(block_id="blcheck_actions", elements=[
        ButtonElement(text=t("button.recheck"), action_id=ACTION_RECHECK, value=value),
        ButtonElement(text=t("button.watch"), action_id=ACTION_WATCH, value=value),
    ])


def _name(report: Report) -> str:
    if report.via:
        return f"{report.query} ({report.via})"
    if report.query != report.target:
        return f"{report.query} ({report.target})"
    return report.query


def cause_text(t: Messages, check: ListCheck) -> str:
    """Why one list could not give an answer, with what to do about it."""
    name = check.list.name
    if check.cause:
        key = f"cause.{check.cause}"
        try:
            return t(key, list=name)
        except KeyError:
            pass
    if check.unreliable:
        why = check.unreliable_why.render(t) if check.unreliable_why else check.unreliable
        return t("cause.unhealthy", list=name, why=why)
    return t("cause.other", list=name, detail=check.detail or "; ".join(t.texts(check.meanings)) or "?")


def snapshot(reports: Sequence[Report]) -> list[Report]:
    """Copies of reports still being checked, with the unanswered checks marked pending (the
    engine goes on filling in the originals)."""
    copies = []
    for r in reports:
        checks = [c if c.done else ListCheck(c.list, PENDING) for c in list(r.checks)]
        copies.append(Report(r.target, r.query, r.kind, r.via, checks, r.index))
    return copies


def verdict(t: Messages, report: Report) -> str:
    total, listed, failed = len(report.checks), len(report.listings), len(report.failures)
    target = _name(report)
    pending = len(report.by_status(PENDING))
    if pending:
        return t.n("verdict.pending", pending, target=target, listed=listed, total=total)
    if listed:
        return t.n("verdict.listed", total, target=target, listed=listed)
    if failed:
        return t.n("verdict.unknown", total, target=target, failed=failed)
    return t.n("verdict.clean", total, target=target)


def _listing_text(t: Messages, report: Report, check: ListCheck) -> str:
    bl = check.list
    head = f"{ICON[LISTED]} *{escape(bl.name)}*"
    if bl.scope in ("range", "asn"):
        head += " " + t(f"listing.scope.{bl.scope}")
    if check.codes:
        head += " " + " ".join(code(c) for c in check.codes)
    lines = [head]
    if check.meanings:
        lines.append(escape("; ".join(t.texts(check.meanings))))
    if check.reason:
        lines.append("> " + escape(clip(check.reason, 500)).replace("\n", " "))
    links = []
    if (url := report.delist_url(check)) is not None:
        links.append(link(url, t("listing.delist")))
    if (url := report.lookup_url(check)) is not None and url != report.delist_url(check):
        links.append(link(url, t("listing.lookup")))
    if links:
        lines.append(" · ".join(links))
    if bl.removal:
        lines.append("_" + escape(t.text(bl.removal)) + "_")
    return "\n".join(lines)


def _status(report: Report) -> str:
    if report.by_status(PENDING) and not report.listings:
        return PENDING
    return report.verdict


def _pending_line(t: Messages, reports: Sequence[Report]) -> str | None:
    waiting = sorted({c.list.name for r in reports for c in r.by_status(PENDING)})
    if not waiting:
        return None
    return f"{ICON[PENDING]} " + escape(t.n("pending.line", len(waiting), lists=", ".join(waiting)))


def _detail(t: Messages, b: _Builder, report: Report, several: bool) -> None:
    if several:
        b.section(f"{ICON[_status(report)]} *{escape(verdict(t, report))}*")
    for check in report.listings:
        if not b.section(_listing_text(t, report, check)):
            break
    if report.failures:
        lines = [f"• {escape(cause_text(t, c))}" for c in report.failures]
        b.sections(f"{ICON['unknown']} *{t.n('failures.title', len(lines))}*", lines)
    if (waiting := _pending_line(t, [report])) is not None:
        b.section(waiting)
    notes = []
    if report.informational:
        notes.append(t("info.line", lists=", ".join(
            f"{escape(c.list.name)} ({escape('; '.join(t.texts(c.meanings)) or ', '.join(c.codes))})"
            for c in report.informational)))
    allowed = report.by_status(ALLOWED)
    if allowed:
        notes.append(t("allowed.line", lists=", ".join(escape(c.list.name) for c in allowed)))
    clean = len(report.by_status(CLEAN))
    if clean:
        notes.append(t.n("clean.count", clean))
    if notes:
        b.context("  ·  ".join(notes))


def _runs(reports: list[Report]) -> list[tuple[Report, Report, int, str]]:
    """Listed items grouped into runs of consecutive addresses listed on the same lists:
    (first, last, how many, list names). A listed /24 is one line, not 256."""
    runs: list[tuple[Report, Report, int, str]] = []
    previous: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    for r in reports:
        if not r.listings:
            previous = None
            continue
        lists = ", ".join(escape(c.list.name) for c in r.listings)
        try:
            address = ipaddress.ip_address(r.query)
        except ValueError:
            address = None
        if (runs and address is not None and previous is not None and runs[-1][3] == lists
                and address.version == previous.version and int(address) == int(previous) + 1):
            first, _, count, _ = runs[-1]
            runs[-1] = (first, r, count + 1, lists)
        else:
            runs.append((r, r, 1, lists))
        previous = address
    return runs


def _summary(t: Messages, b: _Builder, reports: list[Report]) -> int:
    """Many items (a range, many targets): a tally per list, then the listed items as runs.
    Returns how many runs did not fit."""
    tally: dict[str, list[Any]] = {}  # list id -> [check, report, count]
    for r in reports:
        for c in r.listings:
            entry = tally.setdefault(c.list.id, [c, r, 0])
            entry[2] += 1
    lines = []
    for check, report, count in sorted(tally.values(), key=lambda e: -e[2]):
        line = f"• *{escape(check.list.name)}*: {t.n(_noun(reports), count)}"
        if check.meanings:
            line += f" — {escape(t.text(check.meanings[0]))}"
        if (url := report.delist_url(check) or report.lookup_url(check)) is not None:
            line += " · " + link(url, t("listing.delist" if report.delist_url(check) else "listing.lookup"))
        lines.append(line)
    if lines:
        b.sections(f"*{t('summary.by_list')}*", lines)
    runs = []
    for first, last, count, lists in _runs(reports):
        where = code(first.query) if count == 1 else f"{code(first.query)} – {code(last.query)} ({count})"
        runs.append(f"• {where}: {lists}")
    shown = b.sections(f"{ICON[LISTED]} *{t('summary.listed_title')}*", runs) if runs else 0
    failed: Counter[str] = Counter()
    for r in reports:
        for c in r.failures:
            failed[cause_text(t, c)] += 1
    if failed:
        flines = [f"• {escape(text)} — {t.n(_noun(reports), n)}" for text, n in failed.most_common()]
        b.sections(f"{ICON['unknown']} *{t.n('failures.title', len(failed))}*", flines)
    clean = sum(1 for r in reports if r.verdict == CLEAN and not r.by_status(PENDING))
    if clean:
        b.context(t.n(_noun(reports, "summary.clean"), clean))
    return max(0, len(runs) - shown)


def _noun(reports: list[Report], key: str = "summary.items") -> str:
    """The key for "addresses" when every item is an address, else "addresses and domains"."""
    return key + ("_ip" if all(r.kind != "domain" for r in reports) else "")


def _overall(t: Messages, reports: list[Report], asked: str) -> tuple[str, str]:
    """(status, header) for several items."""
    listed = sum(1 for r in reports if r.listings)
    unknown = sum(1 for r in reports if r.verdict == "unknown")
    count = len(reports)
    what = asked if len(asked) <= 60 else t("summary.your_targets")
    if listed:
        return LISTED, t.n(_noun(reports, "summary.header.listed"), count, what=what, listed=listed)
    if unknown:
        return "unknown", t.n(_noun(reports, "summary.header.unknown"), count, what=what,
                              unknown=unknown)
    return CLEAN, t.n(_noun(reports, "summary.header.clean"), count, what=what)


def result_message(t: Messages, run: CheckRun, asked: str, errors: Sequence[str] = (),
                   buttons: bool = True, progress: tuple[int, int] | None = None,
                   again: str | None = None, notes: Sequence[str] = ()) -> Message:
    """The answer to a check: verdict first, then every listing with its reason and removal
    link, what could not be checked and why, and the clean lists as a count.

    With `progress` (done, total) it is a partial answer while the check runs: lists that have
    not answered yet are named as pending (see `snapshot`), and there are no buttons yet.
    `again` is what the buttons check again (the valid targets; default `asked`)."""
    b = _Builder()
    reports = run.reports
    if len(reports) == 1:
        status = _status(reports[0])
        title = verdict(t, reports[0])
    elif reports:
        status, title = _overall(t, reports, asked)
    elif progress is not None:
        status, title = PENDING, t("checking.started", what=asked)
    else:
        status, title = "error", t("result.nothing_checked", what=asked[:60])
    b.add(_header(f"{ICON[status]} {title}"))
    for p in run.problems:
        b.section(f"{ICON['unknown']} {code(p.target)} {escape(p.message.render(t))}")
    if errors:
        b.sections(f"*{t('result.skipped')}*", [f"• {escape(e)}" for e in errors])
    for note in notes:
        b.context(f"{ICON['info']} {escape(note)}")
    hidden = 0
    if 1 <= len(reports) <= DETAIL_REPORTS:
        for r in reports:
            _detail(t, b, r, several=len(reports) > 1)
    elif reports:
        hidden = _summary(t, b, reports)
        if (waiting := _pending_line(t, reports)) is not None:
            b.section(waiting)
    if progress is not None:
        b.context(t("checking.progress", done=progress[0], total=progress[1]), tail=True)
        return Message(text=_fallback(title, reports), blocks=b.dicts())
    if b.dropped or hidden:
        b.context(t("result.more", command=code(clip(f"blcheck check {asked}", 300))), tail=True)
    lists = len({c.list.id for r in reports for c in r.checks})
    if reports:
        b.context(t.n("result.checked", lists, seconds=f"{run.elapsed:.1f}"), tail=True)
    if buttons and reports and (actions := _buttons(t, again or asked)) is not None:
        b.tail(actions)
    return Message(text=_fallback(title, reports), blocks=b.dicts())


def _fallback(title: str, reports: list[Report]) -> str:
    """The plain text: the verdict and the names of the lists. Slack reads mentions and links
    in it, so it is escaped like mrkdwn."""
    names = sorted({c.list.name for r in reports for c in r.listings})
    text = f"{title}: {', '.join(names)}" if names else title
    return escape(clip(text, 3000))


def checking_message(t: Messages, asked: str, lists: int,
                     progress: tuple[int, int] | None = None) -> Message:
    """The immediate answer while DNS works."""
    title = t.n("checking.title", lists, what=asked)
    b = _Builder()
    b.section(f"{ICON['pending']} {escape(title)}")
    if progress is not None:
        b.context(t("checking.progress", done=progress[0], total=progress[1]))
    return Message(text=escape(clip(title, 3000)), blocks=b.dicts())


def guide_blocks(t: Messages, command: str = "/blcheck", lists: int = 30) -> list[dict[str, Any]]:
    """The first-run guide: what blcheck checks (with an example), how to watch, how to have a
    bounce diagnosed. Shared by an empty `/blcheck` and an App Home with no watches yet."""
    b = _Builder(footer=0)
    b.add(_header(t("guide.title")))
    for key in ("guide.check", "guide.watch", "guide.bounce"):
        b.section(t(key, command=command, lists=lists))
    b.context(t("guide.more", command=command))
    return b.dicts()


def guide_message(t: Messages, command: str = "/blcheck", lists: int = 30) -> Message:
    return Message(text=escape(t("guide.title")), blocks=guide_blocks(t, command, lists))


def usage_message(t: Messages, problem: str | None = None, command: str = "/blcheck") -> Message:
    """Help, or a refused input with the help under it (always shown only to the user)."""
    b = _Builder()
    if problem:
        b.section(f"{ICON['error']} {escape(problem)}")
    b.section(t("usage.body", command=command))
    b.context(t("usage.limits"))
    text = problem or t("usage.title")
    return Message(text=escape(clip(text, 3000)), blocks=b.dicts())


def notice_message(text: str, icon: str = "info") -> Message:
    """One sentence (already from a catalog) as a message."""
    b = _Builder()
    b.section(f"{ICON.get(icon, '')} {escape(text)}".strip())
    return Message(text=escape(clip(text, 3000)), blocks=b.dicts())
