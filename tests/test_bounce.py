"""Bounce diagnosis: the customer's three examples, every input format on fixtures of our own,
the live re-check against rbldnsd, the command line, and hostile input."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bounce.diagnose import diagnose, diagnosis_json, live_check
from bot.bounce.rules import parse
from bot.dnsbl.catalog import Catalog
from bot.dnsbl.checker import Checker
from bot.dnsbl.demozones import zones_for
from bot.dnsbl.localserver import Entry, LocalBlocklistServer
from bot.dnsbl.transport import Nameserver
from bot.errors import CatalogError

DATA = Path(__file__).parent / "data" / "bounces"
ROOT = Path(__file__).parent.parent
KEYS = {"recipient", "reply_code", "status", "remote_mta", "stage", "permanent", "refused_ip",
        "reason", "blocklist", "provider", "remedy", "live_check"}


def one(name: str) -> dict:
    out = diagnosis_json(diagnose((DATA / name).read_bytes()))
    assert out["is_bounce"] and len(out["recipients"]) == 1, out
    return out["recipients"][0]


@pytest.fixture(scope="module")
def bounce_server(full_catalog: Catalog) -> Iterator[LocalBlocklistServer]:
    """192.0.2.25 (the customer's example 3) on Spamhaus XBL; 11.22.33.45 on nothing."""
    listings = {"spamhaus-zen": [Entry("192.0.2.25", "127.0.0.4",
                                       "Listed by XBL, see https://check.spamhaus.org/query/ip/$")],
                "spamcop": [Entry("11.22.33.44", "127.0.0.2", "Blocked - see $")]}
    server = LocalBlocklistServer(zones_for(full_catalog, listings)).start()
    yield server
    server.stop()


# -- the customer's examples ----------------------------------------------------------------------


def test_seed_1_sendmail_relaying_denied() -> None:
    r = one("seed-1-sendmail-relaying.txt")
    assert r["reason"] == "norelaying"
    assert (r["reply_code"], r["status"]) == ("554", None)  # the server gave no enhanced code
    assert r["remote_mta"] == "xxxxx.example.com" and r["stage"] == "RCPT"
    assert r["recipient"] == "info@xxxxx.example.com" and r["permanent"] is True
    assert "relay" in r["remedy"].lower()


def test_seed_2_reputation_gateway_at_connect() -> None:
    r = one("seed-2-poor-reputation.txt")
    assert r["reason"] == "badreputation" and r["provider"] == "cisco-talos"
    assert r["stage"] == "connect" and r["reply_code"] == "554"
    assert "talosintelligence.com/reputation_center" in r["remedy"]
    assert r["blocklist"] is None  # no single list is named: none is invented


async def test_seed_3_spamhaus_sbl_xbl_with_live_recheck(full_catalog: Catalog,
                                                        bounce_server: LocalBlocklistServer) -> None:
    result = diagnose((DATA / "seed-3-spamhaus-sbl-xbl.txt").read_text())
    checker = Checker.for_nameservers(full_catalog, [Nameserver.parse(bounce_server.address)], timeout=1.0)
    async with checker.client:
        await live_check(result, checker)
    r = diagnosis_json(result)["recipients"][0]
    assert r["reason"] == "blocked" and r["blocklist"] == "spamhaus-sbl-xbl"
    assert r["refused_ip"] == "192.0.2.25"  # from the lookup URL, not the remote MX
    assert r["stage"] == "DATA" and r["remote_mta"] == "post.nantoka.co.jp"
    assert "infected or misused host" in r["remedy"] and "refused until the cause is fixed" in r["remedy"]
    assert r["live_check"]["summary"].startswith("still listed on Spamhaus ZEN (XBL")
    assert r["live_check"]["listed_on"] == ["spamhaus-zen"]


async def test_live_check_says_when_an_ip_is_no_longer_listed(full_catalog: Catalog,
                                                             bounce_server: LocalBlocklistServer) -> None:
    text = "<<< 554 5.7.1 Service unavailable; Client host [11.22.33.45] blocked using zen.spamhaus.org"
    result = diagnose(text)
    checker = Checker.for_nameservers(full_catalog, [Nameserver.parse(bounce_server.address)], timeout=1.0)
    async with checker.client:
        await live_check(result, checker)
    assert result.failures[0].live_check["summary"] == "no longer listed anywhere we check"


# -- formats --------------------------------------------------------------------------------------


def test_postfix_dsn_quoted_printable_gmail_reputation() -> None:
    r = one("postfix-gmail-reputation.eml")
    assert r["reason"] == "badreputation" and r["provider"] == "gmail"
    assert r["refused_ip"] == "11.22.33.44"  # "[11.22.33.44      18]": address and score
    assert (r["reply_code"], r["status"], r["stage"]) == ("550", "5.7.1", "DATA")
    assert r["remote_mta"] == "gmail-smtp-in.l.google.com"


def test_maillog_lines_of_four_mtas() -> None:
    out = diagnosis_json(diagnose((DATA / "maillog.txt").read_bytes()))
    got = {r["recipient"]: r for r in out["recipients"]}
    assert got["alice@example.org"]["reason"] == "blocked"
    assert got["alice@example.org"]["blocklist"] == "spamhaus-zen"
    assert got["alice@example.org"]["refused_ip"] == "11.22.33.44"
    ms = got["carol@contoso.example"]
    assert (ms["provider"], ms["reason"], ms["refused_ip"]) == ("microsoft", "blocked", "11.22.33.45")
    assert ms["refused_ip"] != "52.101.68.2"  # never the remote MX
    assert "sender.office.com" in ms["remedy"]
    assert got["webmaster@example.kr"]["status"] == "5.1.1"  # sendmail: dsn=, no remote text
    assert got["bob@example.com"]["reason"] == "mailboxfull"  # Exim ** line
    assert got["dave@example.jp"]["reason"] == "userunknown"  # qmail, recipient from its start line


def test_inbound_rejections_are_not_called_our_listing() -> None:
    result = diagnose((DATA / "maillog-inbound.txt").read_bytes())
    assert result.failures[0].inbound
    assert "your server's own rejections of incoming mail" in result.notes[0]


def test_japanese_iso_2022_jp_wrapper() -> None:
    r = one("iso2022jp-ndr.eml")
    assert (r["recipient"], r["reason"], r["status"]) == ("yamada@example.co.jp", "userunknown", "5.1.1")


def test_several_recipients_several_outcomes() -> None:
    out = diagnosis_json(diagnose((DATA / "three-recipients.eml").read_bytes()))
    reasons = [(r["recipient"], r["reason"], r["blocklist"]) for r in out["recipients"]]
    assert reasons == [("one@example.org", "userunknown", None), ("two@example.org", "mailboxfull", None),
                       ("three@example.org", "blocked", "spamcop")]


def test_bounce_pasted_in_slack_with_chat_around_it() -> None:
    pasted = ("ねえ、これ何？ mail to the bank keeps bouncing:\n"
              "&lt;erin@bank.example&gt;: host mx1.bank.example[198.51.100.7] refused to talk to me: "
              "554 Your access to this mail system has been rejected due to the sending MTA's poor "
              "reputation.\nthanks!")
    r = diagnosis_json(diagnose(pasted))["recipients"][0]
    assert (r["recipient"], r["reason"], r["stage"]) == ("erin@bank.example", "badreputation", "connect")


@pytest.mark.parametrize("text", ["hello team, lunch at noon?", "", "11.22.33.44 is our new relay",
                                  "see https://example.com/page?id=550"])
def test_text_that_is_not_a_bounce(text: str) -> None:
    out = diagnosis_json(diagnose(text))
    assert out == {"is_bounce": False, "recipients": [], "notes": []}


def test_json_has_the_promised_keys_and_never_invents() -> None:
    r = one("seed-1-sendmail-relaying.txt")
    assert set(r) >= KEYS
    assert r["status"] is None and r["refused_ip"] is None and r["live_check"] is None


def test_a_signature_is_a_data_change(tmp_path: Path) -> None:
    text = (ROOT / "bot" / "data" / "bounce.toml").read_text()
    text = text.replace('[[blocklist]]\nid = "spamhaus-sbl-xbl"', '[[blocklist]]\nid = "acme-rbl"\n'
                        'name = "ACME RBL"\npatterns = ["rbl.acme.example"]\nexplanation = "x"\n'
                        'remedy = "Ask ACME."\n\n[[blocklist]]\nid = "spamhaus-sbl-xbl"', 1)
    rules = parse(text)
    r = diagnose("<<< 550 5.7.1 Client host [11.22.33.9] blocked using rbl.acme.example", rules)
    assert (r.failures[0].blocklist, r.failures[0].remedy) == ("acme-rbl", "Ask ACME.")
    with pytest.raises(CatalogError, match="unknown keys"):
        parse(text + "\n[reason.newreason]\nphrase = ['typo']\n")


# -- hostile input --------------------------------------------------------------------------------

_FRAGMENTS = ["550", "5.7.1", "<<< ", ">>> RCPT To:<", "@", "a@b", "[192.0.2.", "host mx[", "] said: ",
              "(in reply to ", "Final-Recipient: rfc822; ", "\n", "\n\n", "Diagnostic-Code: smtp; ",
              " ", "-", "spamhaus", "=", "=\n", "&lt;", "**", "status=bounced (", "\t", "x" * 50,
              "Content-Type: multipart/report; boundary=\"b\"\n", "--b\n", "Remote host said:"]


def _fuzz(size: int, rng: random.Random) -> str:
    parts: list[str] = []
    total = 0
    while total < size:
        parts.append(rng.choice(_FRAGMENTS))
        total += len(parts[-1])
    return "".join(parts)[:size]


def test_fuzzed_pastes_never_crash_and_stay_bounded() -> None:
    # A safety net against catastrophic regex backtracking (an exponential case would take
    # minutes); the linear-time figures are measured in bench/bounces.py.
    rng = random.Random(20261128)
    for size in (100, 2_000, 40_000):
        for _ in range(15 if size < 40_000 else 5):
            text = _fuzz(size, rng)
            start = time.process_time()
            out = diagnosis_json(diagnose(text))
            assert time.process_time() - start < 10, size
            json.dumps(out)  # always serialisable
            assert len(out["recipients"]) < size


@pytest.mark.parametrize("blob", [
    "a" * 40_000, "550-" * 10_000, "<" * 40_000, "@" * 40_000, "[1.2.3.4]" * 4_000,
    ">>> RCPT To:<x@y>\n" * 2_000, "x@y: 550 " * 4_000, "\n" * 40_000, " " * 40_000, "-" * 40_000,
    "\t\n" * 20_000, "=\n" * 20_000, "status=bounced (" + " " * 39_000, "Final-Recipient:\n " * 2_000,
])
def test_pathological_pastes(blob: str) -> None:
    start = time.process_time()
    diagnosis_json(diagnose(blob))
    assert time.process_time() - start < 10


def test_input_over_the_limit_is_cut_with_a_note() -> None:
    big = b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\n" + b"x" * (6 * 1024 * 1024)
    result = diagnose(big)
    assert any("Only the first 5 MB" in n for n in result.notes)


# -- the command line ---------------------------------------------------------------------------


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLCHECK_NAMESERVERS")}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True,
                          timeout=60, env=env, cwd=ROOT)


def test_cli_diagnose_json_with_live_check(bounce_server: LocalBlocklistServer) -> None:
    proc = run_cli("diagnose", "--json", "--nameserver", bounce_server.address,
                   str(DATA / "seed-3-spamhaus-sbl-xbl.txt"))
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)["recipients"][0]
    assert set(r) >= KEYS and r["live_check"]["summary"].startswith("still listed on Spamhaus ZEN")


def test_cli_diagnose_text_from_stdin_without_live_check() -> None:
    proc = run_cli("diagnose", "--no-live", "-", stdin=(DATA / "seed-2-poor-reputation.txt").read_bytes())
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert "Bounce diagnosis: 1 failed recipient (badreputation)" in out
    assert "Cisco Secure Email" in out and "Live check" not in out


def test_cli_diagnose_not_a_bounce_and_binary(tmp_path: Path) -> None:
    proc = run_cli("diagnose", "--no-live", "-", stdin=b"just some notes")
    assert proc.returncode == 3 and "does not look like a bounce" in proc.stdout.decode()
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    proc = run_cli("diagnose", str(binary))
    assert proc.returncode == 2 and "is a binary file, not a bounce" in proc.stderr.decode()
    proc = run_cli("diagnose", str(tmp_path / "missing.eml"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr.decode()
