"""What a diagnosis says about one failed recipient, and about the whole bounce."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Failure:
    """One failed (or deferred) recipient. Every field is what the bounce said, or None: codes
    are never invented (a reporting MTA's generic x.0.0 is kept apart from the server's reply)."""

    recipient: str | None = None
    reply_code: str | None = None  # the remote server's SMTP reply code, e.g. "550"
    status: str | None = None  # the enhanced status code, e.g. "5.7.1"
    diagnostic: str = ""  # the remote server's reply text (or the MTA's own message)
    remote_mta: str | None = None  # the host that answered
    remote_ip: str | None = None  # its address (not the one to delist)
    stage: str | None = None  # connect, HELO, MAIL, RCPT, DATA
    action: str | None = None  # failed, delayed, expired
    diagnostic_type: str | None = None  # smtp, x-unix, x-postfix ...
    source: str = "text"  # how it was found: dsn, postfix, sendmail, exim, qmail, log, ...
    inbound: bool = False  # a log line of this server refusing someone else
    # The reporting MTA's own words around the reply (a Japanese carrier's 「宛先不明」, au's "The
    # user(s) account is disabled."): read for a provider's verdicts and when the reply alone
    # decides nothing; never shown as the server's reply.
    context: str = ""
    # filled in by the classifier
    refused_ip: str | None = None
    reason: str = "undefined"
    blocklist: str | None = None
    provider: str | None = None
    remedy: str | None = None
    explanation: str | None = None
    links: list[str] = field(default_factory=list)
    live_check: dict[str, Any] | None = None

    @property
    def permanent(self) -> bool | None:
        code = self.status or self.reply_code
        if self.action in ("delayed",):
            return False
        if not code:
            return True if self.action == "failed" else None
        return code[0] == "5"


@dataclass
class Diagnosis:
    is_bounce: bool
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
