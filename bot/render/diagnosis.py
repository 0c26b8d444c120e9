"""A bounce diagnosis as a Slack message (and, through blocktext, as terminal text).

Per failed recipient: what the server said (codes exactly as given, the stage, the remote host),
the cause (Sisimai's reason name and what it means, the list or provider behind it), what to do,
and the live re-check of the refused IP. Bounded like every message: at most a handful of
recipients in full, the rest counted.
"""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, PlainTextObject

from bot.bounce.model import Diagnosis, Failure
from bot.bounce.rules import Rules
from bot.i18n import Messages
from bot.render.blocks import Message, _Builder
from bot.render.mrkdwn import HEADER_LIMIT, clip, code, escape, link

MAX_FAILURES = 6  # recipients shown in full; a bounce to 200 list members is summarised


def _names(rules: Rules) -> dict[str, str]:
    return {**{p.id: p.name for p in rules.providers}, **{b.id: b.name for b in rules.blocklists}}


def _said(t: Messages, f: Failure) -> str:
    who = escape(f.recipient) if f.recipient else t("diag.no_recipient")
    facts = []
    codes = " ".join(c for c in (f.reply_code, f.status) if c)
    facts.append(code(codes) if codes else t("diag.no_code"))
    if f.stage:
        facts.append(t("diag.stage", stage=f.stage))
    permanent = f.permanent
    if permanent is not None:
        facts.append(t("diag.permanent") if permanent else t("diag.temporary"))
    lines = [f"*{who}*  ·  " + "  ·  ".join(facts)]
    if f.remote_mta or f.remote_ip:
        where = " ".join(x for x in (f.remote_mta, f"[{f.remote_ip}]" if f.remote_ip else None) if x)
        lines.append(t("diag.remote", host=escape(where)))
    if f.diagnostic:
        lines.append("> " + escape(clip(f.diagnostic, 700)))
    return "\n".join(lines)


def _cause(t: Messages, f: Failure, names: dict[str, str]) -> str:
    parts = [f"*{t('diag.cause')}* `{f.reason}` — {escape(t.text(f.explanation or ''))}"]
    behind = [names.get(x, x) for x in (f.blocklist, f.provider) if x]
    if behind:
        parts.append(t("diag.behind", names=escape(", ".join(dict.fromkeys(behind)))))
    if f.refused_ip:
        parts.append(t("diag.refused_ip", ip=code(f.refused_ip)))
    return "\n".join(parts)


def _remedy(t: Messages, f: Failure) -> str:
    text = f"*{t('diag.todo')}* {escape(t.text(f.remedy or ''))}"
    if f.links:
        text += "\n" + " · ".join(link(u, u.split("//", 1)[-1].rstrip("/")) for u in f.links[:3])
    return text


def _live(t: Messages, f: Failure) -> str | None:
    live = f.live_check
    if not live:
        return None
    if not live.get("checked"):
        return t("diag.live_skipped", ip=code(str(live.get("ip"))), why=escape(str(live.get("summary"))))
    listings = live.get("listings")
    if listings is None:  # a diagnosis stored before the structured fields: English as it was
        summary = str(live["summary"])
    elif listings:
        summary = t("diag.live_listed", lists=", ".join(
            name + (f" ({t.text(meaning).split(':')[0]})" if meaning else "") for name, meaning in listings))
    elif live.get("could_not_check"):
        summary = t("diag.live_partial", failed=len(live["could_not_check"]), total=live["lists_checked"])
    else:
        summary = t("diag.live_clean")
    return t("diag.live", ip=code(str(live["ip"])), summary=escape(summary))


def diagnosis_message(t: Messages, result: Diagnosis, rules: Rules, asked: bool = True) -> Message:
    """The threaded reply. `asked`: the user asked for it (a non-bounce then gets an answer)."""
    b = _Builder()
    if not result.is_bounce:
        text = t("diag.not_a_bounce")
        b.section(f":grey_question: {escape(text)}")
        return Message(text=escape(text), blocks=b.dicts())
    failures = [f for f in result.failures if not f.inbound] or result.failures
    reasons = sorted({f.reason for f in failures})
    title = t.n("diag.title", len(failures), reasons=", ".join(reasons))
    b.add(HeaderBlock(text=PlainTextObject(text=clip(":mailbox_with_no_mail: " + title, HEADER_LIMIT),
                                           emoji=True)))
    names = _names(rules)
    for f in failures[:MAX_FAILURES]:
        if not b.section(_said(t, f)):
            break
        b.section(_cause(t, f, names))
        b.section(_remedy(t, f))
        if (live := _live(t, f)) is not None:
            b.add(ContextBlock(elements=[MarkdownTextObject(text=clip(live, 2000))]))
    hidden = len(failures) - MAX_FAILURES
    if hidden > 0 or b.dropped:
        b.context(t.n("diag.more", max(hidden, 1)), tail=True)
    for note in result.notes:
        b.context(escape(note), tail=True)
    first = failures[0]
    fallback = f"{title}: {first.recipient or ''} {first.reply_code or ''} {first.reason}".strip()
    return Message(text=escape(clip(fallback, 3000)), blocks=b.dicts())
