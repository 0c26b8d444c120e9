"""`blcheck` as scripts use it: output, JSON contract and exit codes, in a real subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.dnsbl.localserver import LocalBlocklistServer
from tests.conftest import LISTED_V4, REFUSED_V4, TEST_CATALOG

ROOT = Path(__file__).resolve().parent.parent


def blcheck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("BLCHECK_", "LC_")) and k != "LANG"}
    full_env["LANG"] = "C.UTF-8"  # English unless a test asks for another language
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=ROOT,
        env=full_env, timeout=60,
    )


def test_listed_exit_1_and_human_output(full_server: LocalBlocklistServer) -> None:
    out = blcheck("check", LISTED_V4, "--nameserver", full_server.address)
    assert out.returncode == 1, out.stderr
    assert f"{LISTED_V4}: LISTED on 2 of" in out.stdout
    assert "Spamhaus ZEN  127.0.0.4  XBL" in out.stdout
    assert f"reason: Listed by XBL, see https://check.spamhaus.org/query/ip/{LISTED_V4}" in out.stdout


def test_test_point_127_0_0_2_is_listed_everywhere(full_server: LocalBlocklistServer) -> None:
    out = blcheck("check", "127.0.0.2", "--nameserver", full_server.address, "--json")
    assert out.returncode == 1
    checks = json.loads(out.stdout)["results"][0]["checks"]
    assert {c["status"] for c in checks} <= {"listed", "allowed"}
    assert len(checks) >= 30


def test_clean_exit_0(full_server: LocalBlocklistServer) -> None:
    out = blcheck("check", "11.22.34.1", "--nameserver", full_server.address)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "clean on all" in out.stdout


def test_json_contract(full_server: LocalBlocklistServer) -> None:
    out = blcheck("check", LISTED_V4, "--json", "--nameserver", full_server.address,
                  "--lists", "spamhaus-zen,spamcop,psbl")
    data = json.loads(out.stdout)
    result = data["results"][0]
    assert result["target"] == LISTED_V4 and result["address"] == LISTED_V4
    by_list = {c["list"]: c for c in result["checks"]}
    assert set(by_list) == {"spamhaus-zen", "spamcop", "psbl"}
    zen = by_list["spamhaus-zen"]
    assert {"list", "zone", "status", "codes", "meanings", "reason", "delist_url"} <= set(zen)
    assert zen["zone"] == "zen.spamhaus.org" and zen["status"] == "listed"
    assert zen["codes"] == ["127.0.0.4"] and zen["delist_url"] == "https://check.spamhaus.org/"
    assert by_list["psbl"]["status"] == "clean" and by_list["psbl"]["reason"] is None


def test_bad_input_exit_2_with_usage() -> None:
    out = blcheck("check", "192.168.1.5", "--nameserver", "127.0.0.1:9")
    assert out.returncode == 2
    assert "192.168.1.5 is a private address; blocklists only list public ones." in out.stderr
    out = blcheck("check", "11.22.0.0/16", "--nameserver", "127.0.0.1:9")
    assert out.returncode == 2 and "the limit is 256" in out.stderr
    out = blcheck("check", "1.2.3.4", "--nameserver", "dns.example.com")
    assert out.returncode == 2 and "is not an IP address" in out.stderr


def test_only_unknowns_exit_3(black_hole: str) -> None:
    out = blcheck("check", LISTED_V4, "--nameserver", black_hole, "--timeout", "0.3",
                  "--lists", "spamcop,psbl")
    assert out.returncode == 3, out.stdout
    assert "could not be checked" in out.stdout


def test_public_resolver_refusal_is_explained(dns_server: LocalBlocklistServer) -> None:
    out = blcheck("check", REFUSED_V4, "--catalog", str(TEST_CATALOG), "--lists", "good",
                  "--nameserver", dns_server.address)
    assert "refused: public resolver" in out.stdout
    assert "run your own recursive resolver" in out.stdout
    assert out.returncode == 3


def test_dqs_key_never_printed(full_server: LocalBlocklistServer) -> None:
    key = "abcdefghijklmnopqrstuvwxyz"
    out = blcheck("check", "127.0.0.2", "--json", "--nameserver", full_server.address,
                  env={"BLCHECK_SPAMHAUS_DQS_KEY": key})
    assert key not in out.stdout + out.stderr
    zen = next(c for c in json.loads(out.stdout)["results"][0]["checks"]
               if c["list"] == "spamhaus-zen")
    # the local server does not serve the keyed zone: REFUSED, which must be unknown
    assert zen["zone"] == "zen.dq.spamhaus.net" and zen["status"] == "unknown"


def test_lists_health_names_the_broken_lists(dns_server: LocalBlocklistServer) -> None:
    out = blcheck("lists", "--health", "--json", "--nameserver", dns_server.address,
                  env={"BLCHECK_CATALOG": str(TEST_CATALOG)})
    rows = {r["id"]: r for r in json.loads(out.stdout)["lists"]}
    assert rows["world"]["health"] == "lists-world"
    assert rows["dead"]["health"] == "not-answering"
    assert rows["good"]["health"] == "ok"
    assert out.returncode == 3


def test_lists_without_health_shows_catalog() -> None:
    out = blcheck("lists")
    assert out.returncode == 0
    assert "spamhaus-zen" in out.stdout and "needs BLCHECK_SPAMHAUS_DQS_KEY" in out.stdout


def test_japanese_follows_the_terminal_locale_and_lang_overrides_it(
        full_server: LocalBlocklistServer) -> None:
    from bot.i18n import messages

    ja = messages("ja")
    out = blcheck("check", LISTED_V4, "--nameserver", full_server.address, env={"LANG": "ja_JP.UTF-8"})
    assert out.returncode == 1
    total = len([line for line in out.stdout.splitlines() if line.startswith("  ")])  # sanity
    assert total > 2
    first = out.stdout.splitlines()[0]
    assert first.startswith(f"{LISTED_V4}：") and "件のリストに掲載" in first, first
    assert ja("cli.state.listed") in out.stdout and ja("cli.reason", text="Listed by XBL") in out.stdout
    out = blcheck("check", LISTED_V4, "--nameserver", full_server.address, "--lang", "en",
                  env={"LANG": "ja_JP.UTF-8"})
    assert f"{LISTED_V4}: LISTED on 2 of" in out.stdout
    out = blcheck("check", LISTED_V4, "--nameserver", full_server.address, "--json",
                  env={"LANG": "ja_JP.UTF-8"})
    assert json.loads(out.stdout)["results"][0]["verdict"] == "listed"  # JSON is for programs


def test_bad_input_in_japanese(full_server: LocalBlocklistServer) -> None:
    out = blcheck("check", "192.168.1.5", "--nameserver", full_server.address, "--lang", "ja")
    assert out.returncode == 2
    assert "192.168.1.5 はプライベートアドレスです" in out.stderr


def test_a_range_draws_a_progress_bar_on_stderr(full_server: LocalBlocklistServer) -> None:
    out = blcheck("check", "11.22.33.0/28", "--nameserver", full_server.address, "--progress")
    assert "[" + "#" * 30 + "] 16/16 checked" in out.stderr
    assert "16/16" not in out.stdout  # stdout stays the result
    quiet = blcheck("check", "11.22.33.0/28", "--nameserver", full_server.address)
    assert "checked" not in quiet.stderr  # not a terminal, not asked: no bar


def test_diagnose_many_files_with_a_progress_bar() -> None:
    data = ROOT / "tests" / "data" / "bounces"
    files = sorted(str(p) for p in data.glob("seed-*.txt"))[:3]
    assert len(files) == 3
    out = blcheck("diagnose", "--no-live", "--progress", *files)
    assert out.returncode == 0, out.stderr
    assert "[" + "#" * 30 + "] 3/3 files" in out.stderr
    headers = [line for line in out.stdout.splitlines() if line.startswith("== ")]
    assert headers == [f"== {f}" for f in files]
    out = blcheck("diagnose", "--no-live", "--json", *files)
    assert [d["file"] for d in json.loads(out.stdout)] == files
