"""The engine end to end: real rbldnsd on loopback, real UDP, every state a user can see."""

from collections.abc import Iterator

import pytest

from bot.dnsbl.catalog import Catalog
from bot.dnsbl.checker import Checker, CheckRun
from bot.dnsbl.localserver import FaultyProxy, LocalBlocklistServer
from bot.dnsbl.results import Report
from bot.dnsbl.transport import DnsClient, Nameserver
from bot.targets import parse_target
from tests.conftest import (
    ALLOWED_V4,
    BAD_DOMAIN,
    LISTED_V4,
    LISTED_V6,
    REFUSED_V4,
    UNKNOWN_CODE_V4,
)


async def run(catalog: Catalog, address: str, *words: str, timeout: float = 1.0) -> CheckRun:
    checker = Checker.for_nameservers(catalog, [Nameserver.parse(address)], timeout=timeout)
    async with checker.client:
        return await checker.check_targets([parse_target(w) for w in words])


def status(report: Report, list_id: str) -> str:
    return next(c.status for c in report.checks if c.list.id == list_id)


def check(report: Report, list_id: str):  # type: ignore[no-untyped-def]
    return next(c for c in report.checks if c.list.id == list_id)


async def test_listed_with_every_code_its_meaning_and_txt(
    test_catalog: Catalog, dns_server: LocalBlocklistServer
) -> None:
    result = await run(test_catalog, dns_server.address, LISTED_V4)
    report = result.reports[0]
    good = check(report, "good")
    assert good.status == "listed"
    assert sorted(good.codes) == ["127.0.0.10", "127.0.0.4"]
    assert set(good.meanings) == {"infected host", "dynamic range"}
    assert good.reason is not None and f"https://good.example/{LISTED_V4}" in good.reason
    assert report.delist_url(good) == f"https://good.example/remove?ip={LISTED_V4}"
    assert report.verdict == "listed" and [c.list.id for c in report.listings] == ["good"]


async def test_info_list_is_shown_but_never_counts(
    test_catalog: Catalog, dns_server: LocalBlocklistServer
) -> None:
    report = (await run(test_catalog, dns_server.address, "11.22.33.50")).reports[0]
    info = check(report, "info")
    assert info.status == "listed" and info.informational and not info.counts_as_listing
    assert report.verdict != "listed"


async def test_clean_allowed_error_unknown(
    test_catalog: Catalog, dns_server: LocalBlocklistServer
) -> None:
    result = await run(test_catalog, dns_server.address, "11.22.34.1", ALLOWED_V4, REFUSED_V4,
                       UNKNOWN_CODE_V4)
    clean, allowed, refused, odd = result.reports
    assert status(clean, "good") == "clean"
    assert status(allowed, "allow") == "allowed"
    assert status(refused, "good") == "error" and check(refused, "good").cause == "public-resolver"
    assert status(odd, "good") == "unknown"
    assert all(r.verdict != "listed" for r in result.reports)


async def test_ipv6_uses_nibble_names(test_catalog: Catalog, dns_server: LocalBlocklistServer) -> None:
    report = (await run(test_catalog, dns_server.address, LISTED_V6)).reports[0]
    assert report.kind == "ip6" and status(report, "good") == "listed"
    assert {c.list.id for c in report.checks} == {"good"}  # IPv4-only lists are not asked


async def test_domain_against_bitmask_list(
    test_catalog: Catalog, dns_server: LocalBlocklistServer
) -> None:
    result = await run(test_catalog, dns_server.address, BAD_DOMAIN)
    report = next(r for r in result.reports if r.kind == "domain")
    bits = check(report, "bits")
    assert bits.status == "listed" and set(bits.meanings) == {"phishing", "spam"}


async def test_a_list_that_lists_the_world_is_an_error_and_never_a_listing(
    test_catalog: Catalog, dns_server: LocalBlocklistServer
) -> None:
    result = await run(test_catalog, dns_server.address, "11.22.34.1")
    world = check(result.reports[0], "world")
    assert world.status == "error" and world.cause == "lists-world"
    assert result.health["world"].status == "lists-world"
    assert result.reports[0].verdict != "listed"


async def test_a_dead_list_is_unknown_not_clean(
    test_catalog: Catalog, dns_server: LocalBlocklistServer
) -> None:
    result = await run(test_catalog, dns_server.address, "11.22.34.1")
    dead = check(result.reports[0], "dead")
    assert dead.status == "unknown" and "test point" in (dead.detail or "")
    assert result.health["dead"].status == "not-answering"


async def test_answers_outside_loopback_mean_a_rewriting_resolver(
    test_catalog: Catalog, dns_server: LocalBlocklistServer
) -> None:
    result = await run(test_catalog, dns_server.address, "11.22.34.1")
    rewrite = check(result.reports[0], "rewrite")
    assert rewrite.status == "error" and rewrite.cause in ("rewrite", "lists-world")


async def test_nameserver_that_never_answers_gives_unknown(
    test_catalog: Catalog, black_hole: str
) -> None:
    result = await run(test_catalog, black_hole, LISTED_V4, timeout=0.4)
    report = result.reports[0]
    assert {c.status for c in report.checks} == {"unknown"}
    assert {c.detail for c in report.checks} == {"timeout"}
    assert report.verdict == "unknown"


@pytest.fixture
def proxy(dns_server: LocalBlocklistServer) -> Iterator[FaultyProxy]:
    with FaultyProxy(("127.0.0.1", dns_server.port), drop=["info.bl.test"],
                     delay={"allow.bl.test": 0.6}) as p:
        yield p


async def test_one_black_holed_list_is_unknown_the_rest_answer(
    test_catalog: Catalog, proxy: FaultyProxy
) -> None:
    report = (await run(test_catalog, proxy.address, LISTED_V4, timeout=1.0)).reports[0]
    assert status(report, "info") == "unknown"
    assert status(report, "good") == "listed"
    assert proxy.dropped >= 2  # the query and its one retry (plus test points)


async def test_slow_but_alive_list_is_not_reported_failed(
    test_catalog: Catalog, proxy: FaultyProxy
) -> None:
    # 0.6 s late with a 1 s timeout: the retry goes out at 0.5 s, the first answer still counts.
    checker = Checker.for_nameservers(test_catalog, [Nameserver.parse(proxy.address)], timeout=1.0)
    async with checker.client:
        for _ in range(3):  # a long-running bot reuses its client; c-ares shrank its timeout
            checker.client._cache.clear()
            run_ = await checker.check_targets([parse_target(ALLOWED_V4)])
            assert status(run_.reports[0], "allow") == "allowed"


async def test_hostname_is_resolved_and_its_domain_checked(
    test_catalog: Catalog, dns_server: LocalBlocklistServer
) -> None:
    result = await run(test_catalog, dns_server.address, "mail.corp.example")
    kinds = {(r.query, r.kind) for r in result.reports}
    assert (LISTED_V4, "ip4") in kinds and ("corp.example", "domain") in kinds
    ip_report = next(r for r in result.reports if r.kind == "ip4")
    assert ip_report.via == "mail.corp.example"


async def test_email_address_checks_domain_and_mx_hosts(
    test_catalog: Catalog, dns_server: LocalBlocklistServer
) -> None:
    result = await run(test_catalog, dns_server.address, "postmaster@corp.example")
    ip_report = next(r for r in result.reports if r.kind == "ip4")
    assert ip_report.query == LISTED_V4 and ip_report.via == "MX mail.corp.example"


async def test_private_address_behind_a_name_is_explained_not_queried(
    test_catalog: Catalog, dns_server: LocalBlocklistServer
) -> None:
    result = await run(test_catalog, dns_server.address, "inside.corp.example")
    assert not [r for r in result.reports if r.kind != "domain"]
    assert any("192.168.1.5 is a private address" in str(p.message) for p in result.problems)


async def test_name_that_does_not_exist(
    test_catalog: Catalog, dns_server: LocalBlocklistServer
) -> None:
    result = await run(test_catalog, dns_server.address, "nothere.corp.example")
    assert any("has no A or AAAA record" in str(p.message) for p in result.problems)


async def test_answers_are_cached_for_their_ttl(
    test_catalog: Catalog, dns_server: LocalBlocklistServer
) -> None:
    client = DnsClient([Nameserver.parse(dns_server.address)], timeout=1.0)
    checker = Checker(test_catalog, client)
    async with client:
        await checker.check_targets([parse_target(LISTED_V4)])
        sent = client.sent
        again = await checker.check_targets([parse_target(LISTED_V4)])
        assert client.sent == sent  # every answer (and the health probes) came from the cache
        assert status(again.reports[0], "good") == "listed"


async def test_full_catalog_range_streams_one_report_per_address(
    full_catalog: Catalog, full_server: LocalBlocklistServer
) -> None:
    result = await run(full_catalog, full_server.address, "11.22.33.0/24")
    assert len(result.reports) == 256
    listed = [r for r in result.reports if r.verdict == "listed"]
    assert [r.query for r in listed] == [LISTED_V4]
    assert {c.list.id for c in listed[0].listings} == {"spamhaus-zen", "spamcop"}
    assert all(r.verdict == "clean" for r in result.reports if r.query != LISTED_V4)


async def test_overall_deadline_ends_the_check_with_unknowns(
    test_catalog: Catalog, black_hole: str
) -> None:
    client = DnsClient([Nameserver.parse(black_hole)], timeout=30.0)
    checker = Checker(test_catalog, client, deadline=0.5)
    async with client:
        result = await checker.check_targets([parse_target(LISTED_V4)])
    report = result.reports[0]
    assert {c.status for c in report.checks} == {"unknown"}
    assert {c.detail for c in report.checks} == {"overall deadline reached"}


async def test_items_not_reached_before_the_deadline_are_reported_unknown(
    test_catalog: Catalog, black_hole: str
) -> None:
    client = DnsClient([Nameserver.parse(black_hole)], timeout=30.0, max_in_flight=4)
    checker = Checker(test_catalog, client, deadline=0.5)
    async with client:
        result = await checker.check_targets([parse_target("11.22.34.0/28")])
    assert [r.query for r in result.reports] == [f"11.22.34.{i}" for i in range(16)]
    assert all(c.status == "unknown" for r in result.reports for c in r.checks)


async def test_a_lost_test_point_answer_does_not_discount_a_real_listing(
    full_catalog: Catalog, full_server: LocalBlocklistServer
) -> None:
    # Under load the test-point probe of SpamCop is lost while its answer for the address comes
    # back: a timeout says nothing about the list, so the listing counts (a watch's baseline
    # would otherwise miss it and alert it as "new" on the next run).
    points = ("2.0.0.127.bl.spamcop.net", "1.0.0.127.bl.spamcop.net")
    with FaultyProxy(("127.0.0.1", full_server.port), drop=points) as proxy:
        result = await run(full_catalog, proxy.address, LISTED_V4, timeout=0.6)
    assert proxy.dropped >= 2
    spamcop = check(result.reports[0], "spamcop")
    assert spamcop.status == "listed" and spamcop.counts_as_listing and spamcop.unreliable is None
    assert result.health["spamcop"].status == "unreachable"
