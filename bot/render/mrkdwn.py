"""Slack mrkdwn helpers: escaping untrusted text and staying inside Block Kit's size limits."""

from __future__ import annotations

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
CONTEXT_LIMIT = 2000


def escape(text: str) -> str:
    """User text and DNS TXT answers are untrusted: `<`, `>` and `&` would become mentions,
    links or broken entities in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    safe_url = url.replace(">", "%3E").replace("|", "%7C").replace("<", "%3C").replace(" ", "%20")
    return f"<{safe_url}|{escape(label)}>"


def code(text: str) -> str:
    return "`" + escape(text).replace("`", "'") + "`"


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    """`text` cut to `limit` characters, with an ellipsis when something was cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Never leave half an entity or half a link behind.
    for opener, closer in (("&", ";"), ("<", ">")):
        at = cut.rfind(opener)
        if at != -1 and closer not in cut[at:]:
            cut = cut[:at]
    return cut + "…"
