"""Answer codes to states, per the shipped catalog (pure: no DNS)."""

from bot.dnsbl.catalog import Catalog
from bot.dnsbl.decode import decode


def test_zen_several_records_are_all_decoded(full_catalog: Catalog) -> None:
    zen = full_catalog.by_id("spamhaus-zen")
    d = decode(zen, ["127.0.0.2", "127.0.0.4", "127.0.0.10"])
    assert d.state == "listed" and not d.informational
    assert len(d.meanings) == 3 and any("XBL" in m for m in d.meanings)


def test_pbl_alone_is_informational(full_catalog: Catalog) -> None:
    d = decode(full_catalog.by_id("spamhaus-zen"), ["127.0.0.11"])
    assert d.state == "listed" and d.informational


def test_spamhaus_error_codes_are_errors_not_listings(full_catalog: Catalog) -> None:
    for code, cause in [("127.255.255.254", "public-resolver"), ("127.255.255.255", "volume"),
                        ("127.255.255.252", "typo")]:
        d = decode(full_catalog.by_id("spamhaus-zen"), [code])
        assert (d.state, d.cause) == ("error", cause)
    d = decode(full_catalog.by_id("spamhaus-dbl"), ["127.0.1.255"])
    assert (d.state, d.cause) == ("error", "ip-query")


def test_answer_outside_loopback_is_a_rewriting_resolver(full_catalog: Catalog) -> None:
    d = decode(full_catalog.by_id("spamcop"), ["146.112.61.108"])
    assert d.state == "error" and d.cause == "rewrite"


def test_undocumented_code_is_unknown_not_listed(full_catalog: Catalog) -> None:
    assert decode(full_catalog.by_id("spamcop"), ["127.0.0.9"]).state == "unknown"


def test_bitmask_lists(full_catalog: Catalog) -> None:
    surbl = decode(full_catalog.by_id("surbl"), ["127.0.0.80"])  # 16 + 64
    assert surbl.state == "listed" and {"MW: malware", "ABUSE: spam or abuse"} <= set(surbl.meanings)
    uribl = decode(full_catalog.by_id("uribl"), ["127.0.0.1"])
    assert uribl.state == "error" and uribl.cause == "refused"
    grey = decode(full_catalog.by_id("uribl"), ["127.0.0.4"])
    assert grey.state == "listed" and grey.informational


def test_reputation_and_allow_lists(full_catalog: Catalog) -> None:
    rep = full_catalog.by_id("mailspike-rep")
    assert decode(rep, ["127.0.0.17"]).state == "allowed"  # check_rbl #54 called this BLACKLISTED
    assert decode(rep, ["127.0.0.15"]).state == "clean"
    assert decode(rep, ["127.0.0.10"]).informational
    dnswl = full_catalog.by_id("dnswl")
    high = decode(dnswl, ["127.0.5.3"])
    assert high.state == "allowed" and high.meanings == ("allow-listed (trust: high)",)
    assert decode(dnswl, ["127.0.0.255"]).state == "error"
    karma = full_catalog.by_id("hostkarma")
    assert decode(karma, ["127.0.0.5"]).state == "clean"  # NOBL is not a listing


def test_uceprotect_levels_2_and_3_never_count(full_catalog: Catalog) -> None:
    for list_id, scope in (("uceprotect-2", "range"), ("uceprotect-3", "asn")):
        bl = full_catalog.by_id(list_id)
        assert bl.scope == scope and decode(bl, ["127.0.0.2"]).informational
    assert not decode(full_catalog.by_id("uceprotect-1"), ["127.0.0.2"]).informational
