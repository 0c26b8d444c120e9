"""The lean reader agrees with dnspython on the answers blocklists send."""

import dns.message
import dns.rcode
import dns.rrset

from bot.dnsbl import wire
from bot.dnsbl.transport import reply_from_message


def _question(name: str, qtype: int) -> bytes:
    return wire.question(b"", wire.encode_name(name), qtype)


def _response(name: str, rdtype: str, rcode: int, answers: list[str], soa: bool) -> bytes:
    query = dns.message.make_query(name, rdtype)
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    if answers:
        response.answer.append(dns.rrset.from_text(name, 300, "IN", rdtype, *answers))
    if soa:
        response.authority.append(dns.rrset.from_text(
            "zen.spamhaus.org.", 150, "IN", "SOA", "ns. host. 1 60 60 600 90"))
    wire_bytes: bytes = response.to_wire()
    return wire_bytes


def test_reader_matches_dnspython() -> None:
    cases = [
        ("4.3.2.1.zen.spamhaus.org.", "A", dns.rcode.NXDOMAIN, [], True),
        ("4.3.2.1.zen.spamhaus.org.", "A", dns.rcode.NOERROR, ["127.0.0.2", "127.0.0.4"], False),
        ("4.3.2.1.zen.spamhaus.org.", "TXT", dns.rcode.NOERROR,
         ['"Listed by SBL, see https://check.spamhaus.org/sbl/query/SBL2"'], False),
        ("4.3.2.1.zen.spamhaus.org.", "A", dns.rcode.SERVFAIL, [], False),
        ("x.multi.uribl.com.", "A", dns.rcode.NOERROR, [], True),
    ]
    for name, rdtype, rcode, answers, soa in cases:
        qtype = wire.TYPE_TXT if rdtype == "TXT" else wire.TYPE_A
        q = _question(name, qtype)
        data = _response(name, rdtype, rcode, answers, soa)
        fast = wire.read_reply(data, q, 60)
        slow = reply_from_message(dns.message.from_wire(data), q, 60)
        assert fast is not None and fast == slow, name


def test_reader_declines_what_it_does_not_understand() -> None:
    name = "4.3.2.1.zen.spamhaus.org."
    query = dns.message.make_query(name, "A")
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text(name, 300, "IN", "CNAME", "elsewhere.test."))
    response.answer.append(dns.rrset.from_text("elsewhere.test.", 300, "IN", "A", "127.0.0.2"))
    data = response.to_wire()
    q = _question(name, wire.TYPE_A)
    assert wire.read_reply(data, q, 60) is None  # the caller falls back to dnspython
    slow = reply_from_message(dns.message.from_wire(data), q, 60)
    assert slow is not None and slow.addresses == ("127.0.0.2",)


def test_reader_rejects_an_answer_to_another_question() -> None:
    data = _response("5.3.2.1.zen.spamhaus.org.", "A", dns.rcode.NXDOMAIN, [], False)
    assert wire.read_reply(data, _question("4.3.2.1.zen.spamhaus.org.", wire.TYPE_A), 60) is None


def test_truncated_garbage_never_raises() -> None:
    q = _question("4.3.2.1.zen.spamhaus.org.", wire.TYPE_A)
    data = _response("4.3.2.1.zen.spamhaus.org.", "A", 0, ["127.0.0.2"], True)
    for cut in range(len(data)):
        wire.read_reply(data[:cut], q, 60)  # must return None or a Reply, never raise
