"""What users type, and the plain answers they get for what cannot be checked."""

import ipaddress

import pytest

from bot.dnsbl.names import query_text
from bot.errors import TargetError
from bot.targets import parse_target, parse_targets, registered_domain, split_words


def test_ipv4_and_ipv6_addresses() -> None:
    assert parse_target("11.22.33.44").addresses == (ipaddress.ip_address("11.22.33.44"),)
    t = parse_target("2a00:1450:4001::99")
    assert t.kind == "ip" and t.addresses[0].version == 6


def test_ipv4_mapped_ipv6_is_the_ipv4_sender() -> None:
    assert parse_target("::ffff:11.22.33.44").addresses == (ipaddress.ip_address("11.22.33.44"),)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("192.168.1.5", "192.168.1.5 is a private address; blocklists only list public ones."),
        ("10.0.0.1", "private address"),
        ("127.0.0.5", "loopback address"),
        ("::1", "loopback address"),
        ("169.254.1.1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("100.64.1.1", "reserved"),
        ("0.0.0.0", "unspecified"),
    ],
)
def test_addresses_no_list_can_list_get_a_clear_answer(text: str, phrase: str) -> None:
    with pytest.raises(TargetError, match=phrase.replace(".", r"\.")):
        parse_target(text)


@pytest.mark.parametrize("text", ["192.0.2.25", "2001:db8::1", "198.51.100.0/30"])
def test_documentation_addresses_are_checked_with_a_caveat(text: str) -> None:
    target = parse_target(text)
    assert target.caveat is not None and "documentation (example) address" in str(target.caveat)
    assert parse_target("11.22.33.44").caveat is None


def test_rfc5782_test_points_are_checkable() -> None:
    assert parse_target("127.0.0.2").kind == "ip"
    assert parse_target("::ffff:7f00:2").addresses[0].version == 6


def test_ranges_up_to_256_addresses() -> None:
    assert len(parse_target("11.22.33.0/24").addresses) == 256
    assert len(parse_target("2a00:1450:4001::/120").addresses) == 256


def test_larger_range_is_refused_with_the_limit() -> None:
    with pytest.raises(TargetError, match=r"11\.22\.0\.0/16 has 65,536 addresses; the limit is 256"):
        parse_target("11.22.0.0/16")


def test_private_range_is_refused() -> None:
    with pytest.raises(TargetError, match="private"):
        parse_target("192.168.0.0/28")


def test_hostnames_domains_and_email() -> None:
    host = parse_target("mail.example.co.uk")
    assert (host.kind, host.name, host.domain) == ("host", "mail.example.co.uk", "example.co.uk")
    dom = parse_target("Example.COM.")
    assert (dom.kind, dom.name) == ("domain", "example.com")
    mail = parse_target("<postmaster@mx.corp.example>")
    assert (mail.kind, mail.name, mail.domain) == ("email", "mx.corp.example", "corp.example")


def test_registered_domain_uses_the_public_suffix_list_offline() -> None:
    assert registered_domain("a.b.example.co.jp") == "example.co.jp"
    assert registered_domain("foo.github.io") == "foo.github.io"


def test_internationalised_domain() -> None:
    assert parse_target("bücher.example").name == "xn--bcher-kva.example"


@pytest.mark.parametrize("garbage", ["hello!", "1.2.3", "-bad-.com", "a..b", "co.uk", "x" * 400])
def test_garbage_gets_a_usage_hint(garbage: str) -> None:
    with pytest.raises(TargetError) as info:
        parse_target(garbage)
    assert str(info.value)


def test_several_targets_keep_the_good_ones_and_report_the_bad() -> None:
    targets, errors = parse_targets(split_words("11.22.33.44, example.com 192.168.1.1;junk!"))
    assert [t.text for t in targets] == ["11.22.33.44", "example.com"]
    assert len(errors) == 2


def test_ipv6_query_name_uses_every_nibble() -> None:
    # pydnsbl <= 1.1.5 reversed the compressed text; the name must have 32 nibbles.
    name = query_text("ip6", "2001:db8::1", "zone.test")
    assert name == "1." + "0." * 23 + "8.b.d.0.1.0.0.2.zone.test"
    assert query_text("ip4", "1.2.3.4", "zen.spamhaus.org") == "4.3.2.1.zen.spamhaus.org"
