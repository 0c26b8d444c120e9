"""What every bounce reader needs from an SMTP reply: its codes, the stage it names, the
addresses in it. Shared by the per-format readers of `extract.py` and the Japanese wrappers of
`japanese.py` (kept apart so neither imports the other's internals).

Every pattern is linear (no nested quantifiers, bounded repeats).
"""

from __future__ import annotations

import re

ADDRESS = r"[^\s<>()\[\]\",;:@]{1,200}@[A-Za-z0-9._-]{1,255}"
ADDR = re.compile(ADDRESS)
REPLY = re.compile(r"\b([245]\d\d)(?:[ -]|$)(?:\s*([245]\.\d{1,3}\.\d{1,3})\b)?")
STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
HOST_SAID = re.compile(r"host (\S{1,255}?)\[([^\]\s]{1,45})\] (said|refused to talk to me): (.*)")
IN_REPLY = re.compile(r"\(in reply to (.{1,80}?) command\)")

# SMTP verbs are matched in upper case only: "mail" and "data" are ordinary words in replies.
_STAGES = (
    ("connect", re.compile(r"initial connection|refused to talk to me|[Cc]onnect(?:ion)? to |"
                           r"greeting|banner")),
    ("HELO", re.compile(r"\b(?:EHLO|HELO)\b|my name was rejected")),
    ("MAIL", re.compile(r"\bMAIL(?: FROM)?\b|[Ss]ender was rejected")),
    ("RCPT", re.compile(r"\bRCPT(?: TO)?\b|does not like recipient")),
    ("DATA", re.compile(r"\bDATA\b|end of data|failed after I sent the message")),
)
_STAGE_IN_REPLY = re.compile(r"\(in reply to (.{1,80}?) command\)|after ((?:RCPT TO|MAIL FROM|DATA|"
                             r"end of data|initial connection|EHLO|HELO)[^:]{0,200}):|\(state \d{1,2}\)|"
                             r"refused to talk to me")
_GMAIL_STATE = {"6": "MAIL", "8": "AUTH", "9": "AUTH", "12": "AUTH", "13": "HELO", "14": "RCPT",
                "15": "DATA", "17": "DATA", "18": "DATA"}


def stage_of(text: str) -> str | None:
    """connect / HELO / MAIL / RCPT / DATA from "(in reply to RCPT TO command)" and the like."""
    m = re.search(r"\(state (\d{1,2})\)", text)
    if m and m.group(1) in _GMAIL_STATE:
        return _GMAIL_STATE[m.group(1)]
    for stage, pattern in _STAGES:
        if pattern.search(text):
            return stage
    return None


def stage_in_reply(text: str) -> str | None:
    """The stage a reply text itself names ("(in reply to RCPT TO command)"), else None."""
    m = _STAGE_IN_REPLY.search(text)
    return stage_of(m.group(0)) if m else None


def codes(text: str) -> tuple[str | None, str | None]:
    """The first SMTP reply code and enhanced status in a reply, as written."""
    reply = status = None
    m = REPLY.search(text)
    if m:
        reply, status = m.group(1), m.group(2)
        if status and status[0] != reply[0]:
            status = None  # "550 4.x.x" is inconsistent: keep the reply code only
    if status is None:
        s = STATUS.search(text)
        if s and (reply is None or s.group(1)[0] == reply[0]):
            status = s.group(1)
    return reply, status


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def address(text: str) -> str | None:
    """The first address in `text`, lower-cased."""
    m = ADDR.search(text or "")
    return m.group(0).strip(".").lower() if m else None
