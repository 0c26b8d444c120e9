"""The resolver doctor: through a healthy resolver, one with broken lists, and one that never
answers; on the command line and as /blcheck doctor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.dnsbl.catalog import Catalog
from bot.dnsbl.demozones import zones_for
from bot.dnsbl.localserver import LocalBlocklistServer
from tests.slackbot import BotHarness, blocks_text

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def sick_server(full_catalog: Catalog) -> Iterator[LocalBlocklistServer]:
    """Barracuda lists the world; PSBL is dead (does not list its own test point)."""
    server = LocalBlocklistServer(zones_for(full_catalog, {}, broken={"barracuda": "world",
                                                                        "psbl": "dead"})).start()
    yield server
    server.stop()


def doctor(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BLCHECK_NAMESERVERS"}
    return subprocess.run([sys.executable, "-m", "bot.cli", "doctor", *args], capture_output=True,
                          text=True, timeout=60, env=env, cwd=ROOT)


def test_a_fit_resolver(demo_server: LocalBlocklistServer) -> None:
    proc = doctor("--nameserver", demo_server.address)
    assert proc.returncode == 0, proc.stderr
    assert "is fit for blocklist queries: all 39 lists answered" in proc.stdout


def test_broken_lists_are_named_with_what_to_do(sick_server: LocalBlocklistServer) -> None:
    proc = doctor("--nameserver", sick_server.address, "--json")
    assert proc.returncode == 3
    problems = {p["list"]: p for p in json.loads(proc.stdout)["problems"]}
    assert problems["barracuda"]["problem"] == "lists-world"
    assert problems["psbl"]["problem"] == "not-answering"
    assert "dead or silently refuses this resolver" in problems["psbl"]["advice"]
    assert set(problems) == {"barracuda", "psbl"}


def test_a_resolver_that_never_answers(black_hole: str) -> None:
    proc = doctor("--nameserver", black_hole, "--timeout", "0.3", "--json")
    assert proc.returncode == 3
    problems = json.loads(proc.stdout)["problems"]
    assert problems and all(p["problem"] == "unreachable" for p in problems)
    assert "can reach the list's name servers" in problems[0]["advice"]


async def test_slack_doctor_answers_privately(http_bot: BotHarness) -> None:
    ack, _ = await http_bot.command("doctor")
    assert ack.body["response_type"] == "ephemeral"
    assert "is fit for blocklist queries" in blocks_text(ack.body)
