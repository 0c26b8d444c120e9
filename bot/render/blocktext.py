"""Block Kit messages as terminal text: what the console prints, and how the README shows
real bot output without a screenshot."""

from __future__ import annotations

import re
from typing import Any

_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")
_BARE = re.compile(r"<([^|>]+)>")
_EMOJI = {
    ":no_entry:": "⛔", ":white_check_mark:": "✅", ":warning:": "⚠️ ", ":x:": "❌",
    ":hourglass_flowing_sand:": "⏳", ":information_source:": "ℹ️ ",
    ":mailbox_with_no_mail:": "📭", ":mag:": "🔍", ":grey_question:": "❔", ":eyes:": "👀",
    ":rotating_light:": "🚨", ":hourglass:": "⌛", ":repeat:": "🔁", ":mute:": "🔇",
}


def mrkdwn_to_text(text: str) -> str:
    text = _LINK.sub(lambda m: f"{m.group(2)}: {m.group(1)}", text)
    text = _BARE.sub(lambda m: m.group(1), text)
    for code, symbol in _EMOJI.items():
        text = text.replace(code, symbol)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)  # *bold*
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", text)  # _italic_
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: dict[str, Any] | None) -> str:
    if not obj:
        return ""
    return mrkdwn_to_text(str(obj.get("text", "")))


def blocks_to_text(blocks: list[dict[str, Any]], fallback: str = "") -> str:
    """One line group per block; buttons as [Label]."""
    if not blocks:
        return mrkdwn_to_text(fallback)
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"))
            out.extend([title, "─" * min(len(title) + 2, 100)])
        elif kind == "section":
            if block.get("text"):
                out.append(_text(block.get("text")))
            out.extend(_text(f) for f in block.get("fields", []))
        elif kind == "context":
            out.append("  " + "  ".join(_text(e) for e in block.get("elements", [])))
        elif kind == "actions":
            out.append("  ".join(f"[{_text(e.get('text'))}]" for e in block.get("elements", [])))
        elif kind == "divider":
            out.append("─" * 40)
    return "\n".join(out)
