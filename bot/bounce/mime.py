"""From what people paste or attach to plain text the extractors can read.

An .eml (RFC 5322 / MIME, RFC 3464 DSN) is decoded part by part: quoted-printable and base64
undone, legacy charsets (ISO-2022-JP, Shift_JIS, EUC-JP) decoded, the delivery-status fields
kept, the returned original message dropped (it would only add noise); `charsets.py` says how.
Pasted chat text is unescaped from Slack's `&lt;` `&gt;` `&amp;` and link markup.
"""

from __future__ import annotations

import email
import email.header
import email.message
import email.policy
import email.utils
import re
from dataclasses import dataclass, field

from bot.bounce import charsets

MAX_INPUT = 5 * 1024 * 1024  # bytes: an .eml of a few MB; anything larger is cut, with a note
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{0,60}:(?:[ \t]|$)|^[ \t]+\S")
_MESSAGE_HEADER = re.compile(rb"^(?:Return-Path|Received|From|To|Date|Subject|Message-ID|"
                             rb"MIME-Version|Delivered-To|Content-Type):", re.IGNORECASE | re.M)
_SLACK_LINK = re.compile(r"<(?:(?:mailto:|https?://)[^|<>]{0,2000}\|)?([^<>|]{1,2000})>")
_ORIGINAL = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")


@dataclass
class Source:
    """The readable parts of one input."""

    text: str  # human-readable text, delivery-status fields included, original message dropped
    headers: dict[str, str] = field(default_factory=dict)  # the bounce's own top-level headers
    original_to: list[str] = field(default_factory=list)  # To: of the returned message
    truncated: bool = False
    is_mime: bool = False


def _part_text(part: email.message.Message) -> str:
    if part.get_content_type() == "message/delivery-status":
        blocks = part.get_payload()
        if isinstance(blocks, list):
            # Field by field (as_string() would re-fold every header: slow, and not needed).
            return "\n\n".join("\n".join(f"{k}: {v}" for k, v in b.items())
                               for b in blocks if isinstance(b, email.message.Message))
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return charsets.decode(payload, part.get_content_charset())
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""


def _html_to_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>", "\n", text)
    text = re.sub(r"<[^>]{0,2000}>", " ", text)
    return text.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_WANTED = frozenset({"from", "to", "subject", "return-path", "x-failed-recipients", "content-type"})
_ORIGINAL_PART = re.compile(rb"^Content-Type:[ \t]*(?:message/rfc822|text/rfc822-headers)",
                            re.IGNORECASE | re.MULTILINE)
ORIGINAL_KEEP = 16_384  # bytes of the returned message kept: its headers, not its body


def header_text(value: str) -> str:
    """A header's text: encoded-words (RFC 2047) and raw 8-bit bytes decoded like bodies are, so
    an ISO-2022-JP or Shift_JIS Subject reads as Japanese (email.header gives up on
    "windows-31j" and on NEC characters and would leave the =?...?= as it is)."""
    value = str(value)
    if not value.isascii():  # raw 8-bit bytes, kept as surrogates by the compat32 parser
        try:
            return charsets.decode(value.encode("utf-8", "surrogateescape"), None)
        except UnicodeEncodeError:
            return value
    try:
        words = email.header.decode_header(value)
    except Exception:
        return value
    out = []
    for chunk, charset in words:
        out.append(charsets.decode(chunk, charset) if isinstance(chunk, bytes) else chunk)
    text = re.sub(r"\s+", " ", "".join(out)).strip()
    return text if text and (len(words) > 1 or words[0][1]) else value


def _headers_of(msg: email.message.Message) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in msg.items():
        k = key.lower()
        if k in _WANTED and k not in out:
            out[k] = header_text(value)
    return out


def from_message(msg: email.message.Message) -> Source:
    """Text of every readable part; the returned original message only lends its To:."""
    texts: list[str] = []
    original_to: list[str] = []
    has_plain = any(p.get_content_type() == "text/plain" for p in msg.walk())

    def visit(part: email.message.Message) -> None:
        ctype = part.get_content_type()
        if ctype in _ORIGINAL:
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(inner_msg, email.message.Message):
                original_to.extend(a for _, a in email.utils.getaddresses(inner_msg.get_all("To", [])))
            elif ctype != "message/rfc822":
                headers = email.message_from_string(_part_text(part))
                original_to.extend(a for _, a in email.utils.getaddresses(headers.get_all("To", [])))
            return
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            texts.append(_part_text(part))
            return
        if part.is_multipart():
            for sub in part.get_payload():
                if isinstance(sub, email.message.Message):
                    visit(sub)
            return
        if ctype == "text/html":
            if not has_plain:
                texts.append(_html_to_text(_part_text(part)))
            return
        if ctype.startswith("text/") or ctype in ("message/delivery-status",
                                                  "message/global-delivery-status"):
            texts.append(_part_text(part))

    visit(msg)
    if not any(t.strip() for t in texts) and isinstance(msg.get_payload(), str):
        texts.append(_part_text(msg))  # a broken MIME structure (wrong boundary): the raw body
    return Source("\n\n".join(texts), _headers_of(msg), original_to, is_mime=True)


def _looks_like_message(raw: bytes) -> bool:
    """An RFC 5322 header block first (not DSN fields pasted on their own)."""
    head = raw[:4000].split(b"\n\n", 1)[0].replace(b"\r", b"").split(b"\n")
    if len(head) < 2 or not all(_HEADER_LINE.match(line) for line in head[:8]):
        return False
    return bool(_MESSAGE_HEADER.search(b"\n".join(head)))


def read(data: bytes | str) -> Source:
    """A bounce as bytes (an .eml, a file) or as pasted text."""
    truncated = False
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    if len(raw) > MAX_INPUT:
        raw, truncated = raw[:MAX_INPUT], True
    stripped = raw.lstrip()
    if stripped.startswith(b"From ") and b"\n" in stripped[:300]:
        stripped = stripped.split(b"\n", 1)[1]  # an mbox "From " separator line
    if _looks_like_message(stripped):
        # The returned original can be megabytes of attachments: parse only its beginning.
        if (m := _ORIGINAL_PART.search(stripped)) and len(stripped) > m.end() + ORIGINAL_KEEP:
            stripped = stripped[: m.end() + ORIGINAL_KEEP]
        msg = email.message_from_bytes(stripped, policy=email.policy.compat32)
        source = from_message(msg)
        source.truncated = truncated
        return source
    text = raw.decode("utf-8", "replace") if not isinstance(data, str) else data[: len(raw)]
    if "&lt;" in text or "&gt;" in text or "<mailto:" in text or "<http" in text:
        text = _SLACK_LINK.sub(r"\1", text)
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return Source(text, truncated=truncated)
