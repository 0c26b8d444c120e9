"""Shared fixtures: real rbldnsd servers on loopback, and a guard that fails the suite if any
socket is pointed at an address off this machine (DNS included)."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.dnsbl.catalog import Catalog, load_catalog
from bot.dnsbl.demozones import zones_for
from bot.dnsbl.localserver import Entry, LocalBlocklistServer, Zone
from tests.slackbot import BotHarness
from tests.slackstub import SlackStandIn

HERE = Path(__file__).parent
TEST_CATALOG = HERE / "data" / "test_catalog.toml"

# -- the no-traffic-off-this-machine guard ------------------------------------------------------

VIOLATIONS: list[str] = []


def _is_local(host: object) -> bool:
    if not isinstance(host, str):
        return True  # AF_UNIX paths and the like
    if host in ("localhost", ""):
        return True
    try:
        addr = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False  # a name: resolving it would ask the system resolver
    return addr.is_loopback or addr.is_unspecified


def _audit(event: str, args: tuple[object, ...]) -> None:
    host: object = None
    if event in ("socket.connect", "socket.sendto") and len(args) >= 2:
        sock, address = args[0], args[1]
        if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) else address
        else:
            return
    elif event == "socket.getaddrinfo" and args:
        host = args[0]
        if host is None:
            return
    else:
        return
    if not _is_local(host):
        VIOLATIONS.append(f"{event} to {host!r}")
        raise OSError(f"blocked by the test guard: {event} to {host!r} would leave this machine")


sys.addaudithook(_audit)

# Settings the bot persists (passive channels) go to a throwaway directory, never the user's.
os.environ["BLCHECK_DATA_DIR"] = tempfile.mkdtemp(prefix="blcheck-data-")

# Python subprocesses (the CLI tests) load the same guard through sitecustomize.
_GUARD_LOG = Path(os.environ.setdefault(
    "BLCHECK_TEST_GUARD_LOG", tempfile.mkstemp(prefix="blcheck-guard-", suffix=".log")[1]))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(HERE / "guard"), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]])


def _subprocess_violations() -> list[str]:
    try:
        return [line for line in _GUARD_LOG.read_text().splitlines() if line]
    except OSError:
        return []


@pytest.fixture(autouse=True)
def _no_traffic_off_machine() -> Iterator[None]:
    before = len(VIOLATIONS)
    before_sub = len(_subprocess_violations())
    yield
    new = VIOLATIONS[before:] + _subprocess_violations()[before_sub:]
    if new:
        pytest.fail("network traffic off loopback: " + "; ".join(new))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if VIOLATIONS or _subprocess_violations():
        session.exitstatus = 1
    import asyncio

    from tests.watchkit import drop_pg_database

    asyncio.run(drop_pg_database())


@pytest.fixture
def guard_selftest() -> Iterator[list[str]]:
    """For the guard's own test: collect violations without failing the test."""
    before = len(VIOLATIONS)
    captured: list[str] = []
    yield captured
    captured.extend(VIOLATIONS[before:])
    del VIOLATIONS[before:]


# -- DNS servers ------------------------------------------------------------------------------

LISTED_V4 = "11.22.33.44"  # on "good" with two codes, and on "info"
LISTED_V6 = "2a00:1450:4001::99"
REFUSED_V4 = "11.22.33.45"  # "good" answers the Spamhaus-style public-resolver error
ALLOWED_V4 = "11.22.33.46"
UNKNOWN_CODE_V4 = "11.22.33.47"  # "good" answers a code it does not document
BAD_DOMAIN = "phish.example"


def _test_zones(catalog: Catalog) -> list[Zone]:
    listings = {
        "good": [
            Entry(LISTED_V4, "127.0.0.4", "Infected: see https://good.example/$"),
            Entry(REFUSED_V4, "127.255.255.254", "Error: open resolver"),
            Entry(UNKNOWN_CODE_V4, "127.0.0.77"),
            Entry(LISTED_V6, "127.0.0.2", "IPv6 spam"),
        ],
        "info": [Entry("11.22.33.0/24", "127.0.0.2", "AS64500 is listed")],
        "allow": [Entry(ALLOWED_V4, "127.0.5.2")],
        "bits": [Entry(BAD_DOMAIN, "127.0.0.72", "phishing and spam")],
        "rewrite": [Entry("0.0.0.0/1", "10.1.2.3"), Entry("128.0.0.0/1", "10.1.2.3")],
    }
    zones = zones_for(catalog, listings, broken={"world": "world", "dead": "dead"})
    # A second dataset for the same zone, as ZEN combines SBL/XBL/PBL: two A records.
    zones.append(Zone("good.bl.test", "ip4set", [Entry(LISTED_V4, "127.0.0.10", "Dynamic")]))
    # Names for hostname / MX expansion.
    zones.append(Zone("corp.example", "generic", records=[
        f"mail A {LISTED_V4}",
        "@ MX 10 mail.corp.example.",
        "inside A 192.168.1.5",
    ]))
    return zones


@pytest.fixture(scope="session")
def test_catalog() -> Catalog:
    return load_catalog([TEST_CATALOG], replace_defaults=True)


@pytest.fixture(scope="session")
def dns_server(test_catalog: Catalog) -> Iterator[LocalBlocklistServer]:
    server = LocalBlocklistServer(_test_zones(test_catalog))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def full_catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def full_server(full_catalog: Catalog) -> Iterator[LocalBlocklistServer]:
    listings = {"spamhaus-zen": [Entry(LISTED_V4, "127.0.0.4", "Listed by XBL, see "
                                       "https://check.spamhaus.org/query/ip/$")],
                "spamcop": [Entry(LISTED_V4, "127.0.0.2", "Blocked - see "
                                  "https://www.spamcop.net/bl.shtml?$")]}
    server = LocalBlocklistServer(zones_for(full_catalog, listings))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A loopback UDP port that receives and never answers (a dead nameserver)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture(scope="session")
def demo_server(full_catalog: Catalog) -> Iterator[LocalBlocklistServer]:
    """The full catalog with the demo listings (11.22.33.0/24 on ZEN XBL, .44 on SpamCop too)."""
    from bot.dnsbl.demozones import start_demo_server

    server = start_demo_server(full_catalog)
    yield server
    server.stop()


# -- Slack ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own Slack or blcheck settings must not leak into a test (OAuth trap)."""
    for name in list(os.environ):
        if name.startswith("SLACK_") or name in ("BLCHECK_NAMESERVERS", "BLCHECK_CATALOG",
                                                  "BLCHECK_REPLY", "BLCHECK_SPAMHAUS_DQS_KEY"):
            monkeypatch.delenv(name)


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn() as stand_in:
        yield stand_in
        assert stand_in.violations == [], stand_in.violations
        too_long = [n for n in stand_in.notes if "blocks JSON" in n or "truncates" in n]
        assert too_long == [], too_long  # Slack's msg_blocks_too_long in practice


@pytest.fixture
async def http_bot(slack: SlackStandIn, full_catalog: Catalog,
                   demo_server: LocalBlocklistServer) -> AsyncIterator[BotHarness]:
    """The bot in HTTP mode against the stand-in and the demo blocklist server."""
    from tests.slackbot import start_bot

    harness = await start_bot("http", slack, full_catalog, demo_server.address)
    yield harness
    await harness.stop()
