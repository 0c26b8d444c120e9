"""Failed recipients out of bounce text, one small reader per format.

Readers: RFC 3464 delivery-status fields; the human part of Postfix, Sendmail, Exim, qmail,
Gmail and Exchange NDRs; Japanese notices (`japanese.py`); MTA log lines (Postfix, Sendmail, Exim,
qmail). Their findings are merged per recipient: the DSN gives recipient, action and status; the
text gives the stage, the remote host and, for Sendmail, the remote reply itself (over the DSN's
generated one). Shared reply helpers (codes, stages, addresses) live in `reply.py`.

Every pattern is linear: line-anchored, no nested quantifiers, each line bounded in length, so
a 40,000-character paste or a megabyte .eml takes time in proportion to its size.
"""

from __future__ import annotations

import re

from bot.bounce import japanese
from bot.bounce.mime import Source
from bot.bounce.model import Failure
from bot.bounce.reply import ADDR as _ADDR
from bot.bounce.reply import ADDRESS, codes, stage_in_reply, stage_of
from bot.bounce.reply import HOST_SAID as _HOST_SAID
from bot.bounce.reply import IN_REPLY as _IN_REPLY
from bot.bounce.reply import REPLY as _REPLY
from bot.bounce.reply import STATUS as _STATUS
from bot.bounce.reply import address as _address
from bot.bounce.reply import clean as _clean

MAX_LINE = 4000
MAX_RECORDS = 500  # failed recipients read from one input (a list bounce can name thousands)
_ANGLE_ADDR = re.compile(r"<(" + ADDRESS + r")>")
_DSN_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]{0,60}):[ \t]*(.*)$")
_CUT = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*(?:Below this line is a copy of the message|This is a copy of the message|"
    r"Original message|The header of the original message|Original Message)|"
    r"Original message headers:|-+ ?Original message ?-+|"
    r"----- The following is a copy of|Content-Type: message/rfc822|"
    r"Below is a copy of the original message|Message headers follow|Original message follows|"
    # Japanese Exchange 「元のメッセージ ヘッダー:」, ISPs' 「----- 送信されたメールのヘッダー -----」
    r"元のメッセージ[ \t\u3000\u00a0]?ヘッダー?[:：]|"
    r"-{2,}[ \t\u3000]{0,4}(?:元のメッセージ|送信(?:された)?メール|返送(?:された)?メール|オリジナル))",
    re.IGNORECASE | re.MULTILINE)


def cut_original(text: str) -> str:
    """Drop the returned original message: its headers and body are not the diagnosis."""
    m = _CUT.search(text)
    return text[: m.start()] if m else text


_BLANK_RUN = re.compile(r"\n(?:[ \t]*\n){2,}")


def _lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BLANK_RUN.sub("\n\n", text)  # one blank line separates as well as a thousand
    return [line[:MAX_LINE] for line in text.split("\n")]


# -- RFC 3464 fields ----------------------------------------------------------------------------


def dsn_blocks(lines: list[str]) -> list[dict[str, str]]:
    """Per-recipient groups of delivery-status fields (folded lines joined)."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    orphans: dict[str, str] = {}  # per-recipient fields a broken DSN put in a block of their own
    key: str | None = None

    def close() -> None:
        nonlocal current, orphans
        if "final-recipient" in current or ("action" in current and "status" in current):
            blocks.append({**orphans, **current})
            orphans = {}
        elif "diagnostic-code" in current:
            orphans = current
        current = {}

    for line in lines:
        if not line.strip():
            if current:
                close()
            key = None
            continue
        if line[0] in " \t" and key is not None:
            current[key] = current[key] + " " + line.strip()
            continue
        m = _DSN_FIELD.match(line)
        if not m:
            key = None
            continue
        key = m.group(1).lower()
        if key in ("final-recipient", "original-recipient") and key in current:
            close()
        if key in ("reporting-mta", "received-from-mta", "arrival-date"):
            key = None  # per-message fields
            continue
        current[key] = m.group(2).strip()
    close()
    return blocks


def _typed(value: str) -> tuple[str | None, str]:
    kind, sep, rest = value.partition(";")
    return (kind.strip().lower(), rest.strip()) if sep else (None, value.strip())


def from_dsn(block: dict[str, str]) -> Failure:
    _, rcpt = _typed(block.get("final-recipient") or block.get("original-recipient", ""))
    dtype, diagnostic = _typed(block.get("diagnostic-code", ""))
    note = re.search(r"\((.{4,300})\)", block.get("status", "")) if not diagnostic else None
    if note and ("failure" not in note.group(1).lower() or ":" in note.group(1)):
        diagnostic = note.group(1)  # "Status: 4.0.0 (cat.example.net: host name lookup failure)"
    _, remote = _typed(block.get("remote-mta", ""))
    remote_ip = None
    if m := re.search(r"\[([0-9a-fA-F:.]{3,45})\]", remote):
        remote_ip, remote = m.group(1), remote[: m.start()].strip()
    reply, in_text = codes(diagnostic)
    status_field = _STATUS.search(block.get("status", ""))
    return Failure(
        recipient=_address(rcpt), reply_code=reply,
        status=in_text or (status_field.group(1) if status_field else None),
        diagnostic=_clean(diagnostic), remote_mta=remote.rstrip(".") or None, remote_ip=remote_ip,
        action=(block.get("action") or "").split()[0].lower() if block.get("action") else None,
        diagnostic_type=dtype, source="dsn", stage=stage_in_reply(diagnostic),
    )


# -- NDR texts --------------------------------------------------------------------------------


_RECORD_START = re.compile(r"^<" + ADDRESS + r">(?: \(expanded from <[^>]{1,300}>\))?: ")


def _paragraphs(lines: list[str]) -> list[str]:
    """Blank-line separated paragraphs, each joined into one line; a "<rcpt>: " line always
    starts a new one (pasted chat text often runs into the bounce without a blank line)."""
    out: list[str] = []
    buf: list[str] = []
    for line in lines:
        if line.strip():
            if buf and _RECORD_START.match(line):
                out.append(" ".join(buf))
                buf = []
            buf.append(line.strip())
        elif buf:
            out.append(" ".join(buf))
            buf = []
    if buf:
        out.append(" ".join(buf))
    return out


_POSTFIX = re.compile(
    r"^<(" + ADDRESS + r")>(?: \(expanded from <[^>]{1,300}>\))?: (.{1,20000})$")


def postfix_ndr(lines: list[str]) -> list[Failure]:
    failures = []
    for para in _paragraphs(lines):
        m = _POSTFIX.match(para)
        if not m:
            continue
        rcpt, rest = m.group(1).lower(), m.group(2)
        f = Failure(recipient=rcpt, source="postfix")
        h = _HOST_SAID.search(rest)
        if h:
            f.remote_mta, f.remote_ip = h.group(1), h.group(2)
            reply = h.group(4)
            r = _IN_REPLY.search(reply)
            if r:
                f.stage = stage_of(r.group(1))
                reply = reply[: r.start()]
            elif h.group(3).startswith("refused"):
                f.stage = "connect"
            f.diagnostic = _clean(reply)
        else:
            f.diagnostic = _clean(rest)
            f.stage = stage_in_reply(rest)  # au: "<rcpt>: 550 user unknown (in reply to RCPT TO command)"
            c = re.search(r"connect to (\S{1,255}?)\[([^\]\s]{1,45})\]", rest)
            if c:
                f.remote_mta, f.remote_ip, f.stage = c.group(1), c.group(2), "connect"
        f.reply_code, f.status = codes(f.diagnostic)
        failures.append(f)
    return failures


_TALKING = re.compile(r"\.\.\. while talking to ([^\s:]{1,255}?)\.?:")
_FINAL_REPLY = re.compile(r"\d{3} ")
_ANY_REPLY = re.compile(r"\d{3}[ -]")
_BARE_ADDR = re.compile("(" + ADDRESS + ")$")
_INDENTED_ADDR = re.compile(r"^\s*<?(" + ADDRESS + r")>?:?\s*$")
_QMAIL_ADDR = re.compile(r"^<(" + ADDRESS + r")>:\s*$")
_COLON_REPLY = re.compile(r"^\s*<?(" + ADDRESS + r")>?:\s+((?:[45]\d\d[ -])?\S.{3,3000})$")


def sendmail_ndr(lines: list[str]) -> list[Failure]:
    """The session transcript (`... while talking to`, `>>>`, `<<<`) and the address list."""
    failures: list[Failure] = []
    listed: list[tuple[str, str]] = []  # (recipient, "(reason: ...)")
    host = command = named = None  # named: au (ezweb) writes "Recipient: <rcpt>" before the transcript
    reply: list[str] = []
    in_list = False

    def flush() -> None:
        nonlocal reply
        if reply and reply[0][:1] in "45":
            text = " ".join(reply)
            rcpt = _address(command or "") if command and command.upper().startswith("RCPT") else named
            # No command sent yet in this session: the greeting itself refused us.
            stage = stage_of(command) if command else ("connect" if host else None)
            f = Failure(recipient=rcpt, diagnostic=_clean(text), remote_mta=host, stage=stage,
                        source="sendmail")
            f.reply_code, f.status = codes(text)
            failures.append(f)
        reply = []

    for line in lines:
        s = line.strip()
        if m := _TALKING.match(s):
            flush()
            host, command = m.group(1), None
        elif s.startswith(">>>"):
            flush()
            command = s[3:].strip()
        elif s.startswith("<<<"):
            part = s[3:].strip()
            if reply and _FINAL_REPLY.match(reply[-1]) and _ANY_REPLY.match(part):
                flush()  # a second reply to the same command
            reply.append(part)
        else:
            flush()
            if s.startswith("Recipient: <"):
                named = _address(s)
            elif "following addresses had" in s.lower():
                in_list = True
            elif in_list and (a := _ANGLE_ADDR.match(s) or _BARE_ADDR.match(s)):
                listed.append((a.group(1).lower(), ""))
            elif in_list and s.startswith("(reason:") and listed:
                listed[-1] = (listed[-1][0], s[8:].rstrip(")").strip())
            elif in_list and s.startswith("-----"):
                in_list = "following addresses" in s.lower()
    flush()
    # Errors after DATA or MAIL concern every listed recipient.
    if listed:
        shared = [f for f in failures if f.recipient is None]
        for rcpt, why in listed:
            if any(f.recipient == rcpt for f in failures):
                continue
            if shared:
                g = shared[0]
                failures.append(Failure(recipient=rcpt, reply_code=g.reply_code, status=g.status,
                                        diagnostic=g.diagnostic, remote_mta=g.remote_mta,
                                        stage=g.stage, source="sendmail"))
            elif why:
                reply_code, status = codes(why)
                failures.append(Failure(recipient=rcpt, reply_code=reply_code, status=status,
                                        diagnostic=_clean(why), source="sendmail"))
        failures = [f for f in failures if f.recipient is not None] or failures
    return failures


_EXIM_HOST = re.compile(r"^host (\S{1,255}) \[([^\]\s]{1,45})\]:?\s*(.*)$")


def exim_ndr(lines: list[str]) -> list[Failure]:
    failures: list[Failure] = []
    active = False
    current: Failure | None = None
    body: list[str] = []

    def close() -> None:
        nonlocal current, body
        if current is not None:
            text = " ".join(body)
            m = re.search(r"SMTP error from remote (?:mail server|mailer) after ([^:]{1,300}):", text)
            if m:
                current.stage = stage_of(m.group(1))
                text = text[m.end():]
            current.diagnostic = _clean(text)
            current.reply_code, current.status = codes(current.diagnostic)
            failures.append(current)
        current, body = None, []

    for line in lines:
        low = line.lower()
        if "following address(es) failed" in low or "could not be delivered to one or more" in low \
                or "address(es) deferred" in low or "has not yet been delivered" in low:
            active = True
            continue
        if not active:
            continue
        if not line.strip():
            continue
        if line[:1] in " \t" and (a := _INDENTED_ADDR.match(line)):
            close()
            current = Failure(recipient=a.group(1).lower(), source="exim")
            continue
        if current is None:
            if line.startswith("---"):
                break
            continue
        s = line.strip()
        if h := _EXIM_HOST.match(s):
            current.remote_mta, current.remote_ip = h.group(1), h.group(2)
            if h.group(3):
                body.append(h.group(3))
            continue
        if not line[:1].isspace():
            close()
            active = not s.startswith("---")
            continue
        body.append(s)
    close()
    return failures


def qmail_ndr(lines: list[str]) -> list[Failure]:
    if not any("qmail-send program" in line or "Remote host said:" in line for line in lines):
        return []
    failures: list[Failure] = []
    current: Failure | None = None
    body: list[str] = []

    def close() -> None:
        nonlocal current, body
        if current is not None:
            text = " ".join(body)
            said = text.split("Remote host said:", 1)
            current.stage = stage_of(said[0]) if said[0] else None
            if m := re.search(r"(?:Connected to|^)\s*(\d{1,3}(?:\.\d{1,3}){3})", said[0]):
                current.remote_ip = m.group(1)
            lead = said[0] if "sender was rejected" in said[0] else ""
            current.diagnostic = _clean(lead + " " + (said[1] if len(said) > 1 else text))
            current.diagnostic = re.sub(r"\s*(?:Giving up on|I'm not going to try again).*$", "",
                                        current.diagnostic)
            current.reply_code, current.status = codes(current.diagnostic)
            failures.append(current)
        current, body = None, []

    for line in lines:
        if a := _QMAIL_ADDR.match(line.strip()):
            close()
            current = Failure(recipient=a.group(1).lower(), source="qmail")
        elif current is not None:
            if line.startswith("---"):
                close()
                break
            if line.strip():
                body.append(line.strip())
    close()
    return failures


def address_colon_reply(lines: list[str]) -> list[Failure]:
    """`rcpt: 550 5.1.1 text` lines (OpenSMTPD and other terse NDRs)."""
    failures = []
    for line in lines:
        if m := _COLON_REPLY.match(line):
            f = Failure(recipient=m.group(1).lower(), diagnostic=_clean(m.group(2)), source="text")
            f.reply_code, f.status = codes(f.diagnostic)
            f.stage = stage_in_reply(f.diagnostic)
            failures.append(f)
    return failures


_BOUNCE_FROM = re.compile(r"mailer-daemon|postmaster|mail delivery|mail administrator|mdaemon", re.I)
_BOUNCE_SUBJECT = re.compile(r"undeliver|deliver(?:y|ed)? (?:status|fail|error|notification)|"
                             r"returned mail|failure notice|failed|delivery problem|non remis|"
                             r"error sending|could not be delivered|not delivered|bounce|rejected|"
                             r"not (?:a )?member|mail error|returned|loop alert",
                             re.I)


def looks_like_bounce(source: Source) -> bool:
    h = source.headers
    subject = h.get("subject", "")
    return bool(_BOUNCE_FROM.search(h.get("from", "")) or _BOUNCE_SUBJECT.search(subject)
                or japanese.SUBJECT.search(japanese.nfkc(subject))
                or h.get("x-failed-recipients") or "report-type=delivery-status" in h.get("content-type", ""))


def generic_body(source: Source, text: str) -> list[Failure]:
    """A bounce in no layout we know: the failed address and the text around it."""
    own = {a.lower() for k in ("from", "to", "return-path") for a in _ADDR.findall(source.headers.get(k, ""))}
    rcpt = _address(source.headers.get("x-failed-recipients", ""))
    body = text.strip()
    start = 0
    if rcpt is None:
        for m in _ADDR.finditer(body):
            if m.group(0).lower() not in own:
                rcpt, start = m.group(0).strip(".").lower(), m.end()
                break
    else:
        start = max(0, body.lower().find(rcpt) + len(rcpt)) if rcpt in body.lower() else 0
    if rcpt is None and len(source.original_to) == 1:
        rcpt = source.original_to[0].lower()
    window = body[max(0, start - 300): start + 1500] or body[:1500]
    f = Failure(recipient=rcpt, diagnostic=_clean(window), source="text")
    if reply_at := _REPLY.search(window):
        reply_text = window[reply_at.start(): reply_at.start() + 600]
        f.reply_code, f.status = codes(reply_text)
    else:
        f.status = codes(window)[1]
    f.stage = stage_in_reply(window)
    return [f]


def gmail_ndr(text: str) -> list[Failure]:
    m = re.search(r"The error that the other server returned was:\s*(.{1,4000}?)(?:\n\s*\n|\Z)",
                  text, re.S)
    if not m:
        return []
    reply = _clean(m.group(1))
    reply = re.sub(r"^(\d{3}) \1 ", r"\1 ", reply)  # "554 554 5.7.1" -> "554 5.7.1"
    rcpt = None
    if r := re.search(r"(?:recipient|recipients) (?:failed permanently|has been delayed|"
                      r"delivery failed)[^:]{0,40}:\s*(\S{1,300}@\S{1,255})", text):
        rcpt = _address(r.group(1))
    f = Failure(recipient=rcpt, diagnostic=reply, stage=stage_in_reply(reply), source="gmail")
    f.reply_code, f.status = codes(reply)
    return [f]


_HOSTNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}(?:\.[A-Za-z0-9-]{1,63}){1,10}$")
_GENERATING = re.compile(r"(?:Generating server|生成元サーバー?|生成サーバー?)[ \t]?[:：][ \t\u3000]*"
                         r"(\S{1,255})")


def exchange_ndr(text: str) -> list[Failure]:
    failures = []
    for m in re.finditer(r"Remote Server(?: at [^'\n]{1,200}?)? returned '([^'\n]{1,2000})'|"
                         r"#(\d{3} \d\.\d{1,3}\.\d{1,3} [^\n#]{1,1000})##", text):
        reply = _clean(m.group(1) or m.group(2))
        before = text[max(0, m.start() - 600): m.start()]
        addrs = _ADDR.findall(before)
        f = Failure(recipient=addrs[-1].lower() if addrs else None, diagnostic=reply,
                    source="exchange")
        # Exchange 2010 names the server that answered before the reply ("mx.example.com #550");
        # otherwise the generating server (in Japanese NDRs 「生成元サーバー:」).
        host = text[text.rfind("\n", 0, m.start()) + 1: m.start()].strip()
        if m.group(2) and _HOSTNAME.match(host):
            f.remote_mta = host
        elif g := _GENERATING.search(text):
            f.remote_mta = g.group(1)
        f.reply_code, f.status = codes(reply)
        failures.append(f)
    return failures


# -- log lines --------------------------------------------------------------------------------

_QMAIL_START = re.compile(r"starting delivery (\d{1,12}): msg \d{1,20} to (?:remote|local) (\S{1,300})")
_RELAY = re.compile(r"relay=([^,\s\[]{1,255})\.?(?:\s?\[([^\]\s]{1,45})\])?")


def log_lines(lines: list[str]) -> list[Failure]:
    failures: list[Failure] = []
    qmail_to: dict[str, str] = {}
    for line in lines:
        if "NOQUEUE: reject" in line or "ruleset=check_" in line:
            f = Failure(diagnostic=_clean(line.split("reject", 1)[-1].lstrip(":= ")), source="log",
                        inbound=True)
            f.reply_code, f.status = codes(f.diagnostic)
            failures.append(f)
            continue
        if "status=" in line and ("to=<" in line or "status=expired" in line):
            m = re.search(r"status=(bounced|deferred|expired|undeliverable)\b ?\(?(.*?)\)?\s*$", line)
            if not m:
                continue
            rcpt = re.search(r"to=<([^>]{0,300})>", line)
            f = Failure(recipient=(rcpt.group(1).lower() or None) if rcpt else None, source="postfix-log",
                        action={"deferred": "delayed"}.get(m.group(1), "failed"))
            if m.group(1) == "expired":
                f.action, f.diagnostic = "expired", "returned to sender: delivery time expired"
            text = m.group(2)
            if h := _HOST_SAID.search(text):
                f.remote_mta, f.remote_ip = h.group(1), h.group(2)
                text = h.group(4)
                if h.group(3).startswith("refused"):
                    f.stage = "connect"
            if r := _IN_REPLY.search(text):
                f.stage = stage_of(r.group(1))
                text = text[: r.start()]
            if f.action != "expired":
                f.diagnostic = _clean(text)
            if f.remote_mta is None and (relay := _RELAY.search(line)):
                f.remote_mta = None if relay.group(1) == "none" else relay.group(1)
                f.remote_ip = relay.group(2)
            f.reply_code, f.status = codes(f.diagnostic)
            if d := re.search(r"dsn=([245]\.\d{1,3}\.\d{1,3})", line):
                f.status = f.status or d.group(1)
            if f.stage is None and "connect to" in f.diagnostic:
                f.stage = "connect"
            failures.append(f)
        elif "stat=" in line and "to=" in line and ("dsn=4" in line or "dsn=5" in line):
            rcpt = re.search(r"to=<?([^,>\s]{1,300})", line)
            stat = re.search(r"stat=(.*)$", line)
            f = Failure(recipient=_address(rcpt.group(1)) if rcpt else None, source="sendmail-log",
                        diagnostic=_clean(stat.group(1)) if stat else "")
            if relay := _RELAY.search(line):
                f.remote_mta, f.remote_ip = relay.group(1).rstrip("."), relay.group(2)
            d = re.search(r"dsn=([245]\.\d{1,3}\.\d{1,3})", line)
            f.reply_code, status = codes(f.diagnostic)
            f.status = status or (d.group(1) if d else None)
            f.action = "delayed" if f.diagnostic.startswith("Deferred") else "failed"
            failures.append(f)
        elif m := re.search(r"\s(\*\*|==) (\S{1,300}) (.*)$", line):
            rest = m.group(3)
            f = Failure(recipient=_address(m.group(2)), source="exim-log",
                        action="failed" if m.group(1) == "**" else "delayed")
            if h := re.search(r"H=(\S{1,255}) \[([^\]\s]{1,45})\]", rest):
                f.remote_mta, f.remote_ip = h.group(1), h.group(2)
            text = rest.split(": ", 1)[-1] if ": " in rest else rest
            if e := re.search(r"SMTP error from remote (?:mail server|mailer) after ([^:]{1,300}):\s*"
                              r"(?:host \S+ \[[^\]]+\]:\s*)?(.*)$", rest):
                f.stage, text = stage_of(e.group(1)), e.group(2)
            f.diagnostic = _clean(text.replace("\\n", " "))
            f.reply_code, f.status = codes(f.diagnostic)
            failures.append(f)
        elif m := _QMAIL_START.search(line):
            qmail_to[m.group(1)] = m.group(2)
        elif m := re.search(r"delivery (\d{1,12}): (failure|deferral): (.*)$", line):
            text = m.group(3).replace("_", " ").replace("/", " ")
            said = text.split("Remote host said:", 1)
            f = Failure(recipient=_address(qmail_to.get(m.group(1), "")), source="qmail-log",
                        action="failed" if m.group(2) == "failure" else "delayed",
                        diagnostic=_clean(said[-1]), stage=stage_of(said[0]))
            if ip := re.search(r"(\d{1,3}(?:\.\d{1,3}){3})", said[0]):
                f.remote_ip = ip.group(1)
            f.reply_code, f.status = codes(f.diagnostic)
            failures.append(f)
    return failures


# -- everything together ------------------------------------------------------------------------


def _merge(dsn: list[Failure], texts: list[Failure]) -> list[Failure]:
    """DSN records, completed (and for Sendmail corrected) by what the text says."""
    out = list(dsn)
    single = len(dsn) == 1 and len(texts) == 1  # one each: the same recipient (alias, forward)
    for t in texts:
        match = next((d for d in out if d.recipient and d.recipient == t.recipient), None)
        if match is None and len(out) == 1 and (single or t.recipient is None or out[0].recipient is None):
            match = out[0]
        if match is None:
            out.append(t)
            continue
        match.stage = match.stage or t.stage
        match.remote_mta = match.remote_mta or t.remote_mta
        match.remote_ip = match.remote_ip or t.remote_ip
        match.recipient = match.recipient or t.recipient
        real_reply = t.source in ("sendmail", "gmail") and t.diagnostic
        if t.diagnostic and (not match.diagnostic or real_reply or len(match.diagnostic) < 8):
            match.diagnostic = t.diagnostic
            match.reply_code = t.reply_code or match.reply_code
            match.status = t.status or match.status
    return out


def extract(source: Source) -> list[Failure]:
    """Every failed recipient the input describes."""
    text = cut_original(source.text)
    lines = _lines(text)
    low = text.lower()
    # Each reader runs only when its format's markers are there (cheap substring tests).
    dsn = [from_dsn(b) for b in dsn_blocks(lines)] if "recipient:" in low else []
    dsn = [f for f in dsn if f.action not in ("delivered", "relayed", "expanded")]
    found = qmail_ndr(lines) if "remote host said" in low or "qmail-send" in low else []
    if not found:
        found = [
            *(sendmail_ndr(lines) if "<<<" in text or "following addresses" in low else []),
            *(postfix_ndr(lines) if ">: " in text else []),
            *(exim_ndr(lines) if "address(es)" in low or "could not be delivered to one" in low
              or "has not yet been delivered" in low else []),
            *(gmail_ndr(text) if "other server returned" in low else []),
            *(exchange_ndr(text) if "remote server" in low or "##" in text else []),
        ]
    if not found:
        found = address_colon_reply(lines)
    # A Japanese notice: read only when no English layout was found in it (au's wrapper around a
    # Postfix or Sendmail transcript is read by those readers), but its words are kept either way.
    wrapper = japanese.read(text) if japanese.wrapped(text) else None
    if not found and wrapper is not None:
        # Prose alone (no reply, no 「理由:」) is a person talking unless the headers say bounce:
        # a Japanese chat message quoting an address must not get an answer in a passive channel.
        prose_ok = source.is_mime and looks_like_bounce(source)
        found = [f for f in wrapper.failures if f.source == "japanese" or prose_ok]
    failures = _merge(dsn[:MAX_RECORDS], found[:MAX_RECORDS])
    if wrapper is not None:
        for f in failures:
            f.context = f.context or wrapper.context
    if not failures:
        failures = log_lines(lines)[:MAX_RECORDS]
    if not failures and source.is_mime and looks_like_bounce(source):
        failures = generic_body(source, text)
    elif source.is_mime and any(not f.diagnostic for f in failures) and looks_like_bounce(source):
        body = generic_body(source, text)[0]  # DSN without a diagnostic: the human text says why
        for f in failures:
            if not f.diagnostic:
                f.diagnostic = body.diagnostic
    for f in failures:
        if f.recipient is None and len(failures) == 1:
            rcpt = source.headers.get("x-failed-recipients") or ""
            f.recipient = _address(rcpt) or (source.original_to[0].lower()
                                             if len(source.original_to) == 1 else None)
    return failures
