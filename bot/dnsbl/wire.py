"""The lean hot path: DNS queries and blocklist answers in wire form.

Why this exists: on this 2-core machine dnspython's `dns.message.from_wire` takes ~230-250 µs for a
typical blocklist answer (NXDOMAIN with a SOA), and `make_query().to_wire()` ~40 µs, while the
engine's budget is 60 µs of CPU per (address, list) pair, socket included (see bench/engine.py).
A blocklist answer is tiny and regular: a header, the question we sent, a few A or TXT records, a
SOA. So the hot path builds the query from a question we encode once per address and once per
zone (the zone's name through dnspython), and reads answers with the small reader below. Anything
this reader does not fully understand returns `None`, and the caller parses the message with
dnspython instead; `tests/test_wire.py` checks this reader against dnspython on the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import dns.name

TYPE_A = 1
TYPE_CNAME = 5
TYPE_SOA = 6
TYPE_TXT = 16
CLASS_IN = 1

RCODE_NOERROR = 0
RCODE_SERVFAIL = 2
RCODE_NXDOMAIN = 3
RCODE_REFUSED = 5

_HEADER = struct.Struct(">HHHHHH")
_RR_FIXED = struct.Struct(">HHIH")
_QUERY_FLAGS = 0x0100  # standard query, recursion desired


def encode_name(text: str) -> bytes:
    """Wire form of a domain name, through dnspython (validation, IDNA, length limits)."""
    return dns.name.from_text(text).to_wire() or b""


def encode_labels(labels: list[str]) -> bytes:
    """Wire form of leading labels (no root): the reversed address in front of a zone."""
    out = bytearray()
    for label in labels:
        raw = label.encode("ascii")
        out.append(len(raw))
        out += raw
    return bytes(out)


def question(prefix: bytes, zone_wire: bytes, qtype: int) -> bytes:
    """The question section: `prefix` labels, then the zone's wire name, then type and class."""
    return prefix + zone_wire + struct.pack(">HH", qtype, CLASS_IN)


def query(qid: int, question_wire: bytes) -> bytes:
    """A complete query message with one question and recursion desired."""
    return _HEADER.pack(qid, _QUERY_FLAGS, 1, 0, 0, 0) + question_wire


@dataclass(frozen=True, slots=True)
class Reply:
    """What the engine needs from an answer: rcode, A addresses, TXT strings and a cache TTL."""

    rcode: int
    addresses: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    ttl: int = 0
    truncated: bool = False


def header(data: bytes) -> tuple[int, int] | None:
    """(id, flags) of a response, or None when it is too short to be one."""
    if len(data) < 12:
        return None
    qid, flags = struct.unpack_from(">HH", data, 0)
    return qid, flags


def _skip_name(data: bytes, pos: int) -> int:
    """Position after a (possibly compressed) name; raises IndexError/ValueError on junk."""
    while True:
        length = data[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:
            return pos + 2
        if length & 0xC0:
            raise ValueError("extended label type")
        pos += 1 + length


def read_reply(data: bytes, question_wire: bytes, default_negative_ttl: int) -> Reply | None:
    """Decode a response to `question_wire`, or None when the dnspython parser should decide.

    Only records of the question's own name are kept: an answer section that holds a CNAME or
    any other owner makes this return None, so the general parser handles it.
    """
    try:
        _, flags, qdcount, ancount, nscount, _ = _HEADER.unpack_from(data, 0)
        if not flags & 0x8000 or qdcount != 1:
            return None
        end_q = 12 + len(question_wire)
        if data[12:end_q].lower() != question_wire.lower():
            return None
        rcode = flags & 0x000F
        truncated = bool(flags & 0x0200)
        if truncated:
            return Reply(rcode, truncated=True)
        pos = end_q
        addresses: list[str] = []
        texts: list[str] = []
        ttl: int | None = None
        for _ in range(ancount):
            if data[pos] != 0xC0 or data[pos + 1] != 12:
                return None  # owner is not the question name: let dnspython follow it
            rtype, rclass, rttl, rdlen = _RR_FIXED.unpack_from(data, pos + 2)
            rdata = pos + 12
            pos = rdata + rdlen
            if pos > len(data) or rclass != CLASS_IN:
                return None
            ttl = rttl if ttl is None else min(ttl, rttl)
            if rtype == TYPE_A and rdlen == 4:
                addresses.append("%d.%d.%d.%d" % tuple(data[rdata:pos]))  # noqa: UP031
            elif rtype == TYPE_TXT:
                parts = []
                i = rdata
                while i < pos:
                    n = data[i]
                    if i + 1 + n > pos:
                        return None
                    parts.append(data[i + 1 : i + 1 + n].decode("utf-8", "replace"))
                    i += 1 + n
                texts.append("".join(parts))
            else:
                return None
        if ancount == 0:
            ttl = default_negative_ttl
            if nscount:
                pos = _skip_name(data, pos)
                rtype, _, rttl, rdlen = _RR_FIXED.unpack_from(data, pos)
                if rtype == TYPE_SOA and pos + 10 + rdlen <= len(data):
                    (minimum,) = struct.unpack_from(">I", data, pos + 10 + rdlen - 4)
                    ttl = min(rttl, minimum)  # RFC 2308 section 5
        return Reply(rcode, tuple(addresses), tuple(texts), ttl or 0, False)
    except (IndexError, ValueError, struct.error):
        return None
