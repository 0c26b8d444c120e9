"""Block Kit rendering: whatever the results, the message fits Slack's limits and escapes text."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.dnsbl.catalog import Catalog
from bot.dnsbl.checker import CheckRun
from bot.dnsbl.decode import CLEAN, ERROR, LISTED, UNKNOWN
from bot.dnsbl.results import ListCheck, Problem, Report
from bot.i18n import Text, messages
from bot.render.blocks import checking_message, result_message, usage_message
from bot.render.blocktext import blocks_to_text
from tests.slackstub import message_problems

t = messages("en")


def report(catalog: Catalog, query: str, status: str, reason: str | None = None,
           kind: str = "ip4", **extra: Any) -> Report:
    r = Report(query, query, kind)
    for bl in catalog.for_kind(kind):
        r.checks.append(ListCheck(bl, status, codes=("127.0.0.2",) if status == LISTED else (),
                                  meanings=("spam source",) if status == LISTED else (),
                                  reason=reason, done=True, **extra))
    return r


def assert_fits(message: dict[str, Any]) -> None:
    assert message["text"]
    assert message_problems(message) == []
    assert len(message["blocks"]) <= 50
    assert len(json.dumps(message["blocks"], ensure_ascii=False)) <= 13_000  # msg_blocks_too_long


@pytest.mark.parametrize("status, extra", [
    (LISTED, {}), (UNKNOWN, {"detail": "timed out " * 50}),
    (ERROR, {"cause": "public-resolver"}), (CLEAN, {}),
])
def test_a_range_of_256_stays_within_limits_in_every_state(full_catalog: Catalog, status: str,
                                                            extra: dict[str, Any]) -> None:
    reports = [report(full_catalog, f"11.22.{i // 256}.{i % 256}", status, "x" * 4000, **extra)
               for i in range(0, 512, 2)]  # not consecutive: no runs to merge
    message = result_message(t, CheckRun(reports), "11.22.0.0/23").payload()
    assert_fits(message)
    shown = blocks_to_text(message["blocks"])
    if status == LISTED:
        assert "256 of 256 addresses listed" in message["text"]
        assert "More results than fit in one message" in shown
        assert "blcheck check 11.22.0.0/23" in shown


def test_one_address_with_huge_reasons_and_every_list_listed(full_catalog: Catalog) -> None:
    r = report(full_catalog, "11.22.33.44", LISTED, "<script>&" * 1000)
    problem = Problem("mail.example", Text("lookup.failed", error="x" * 5000))
    message = result_message(t, CheckRun([r], [problem], elapsed=1.25), "11.22.33.44").payload()
    assert_fits(message)
    text = json.dumps(message)
    assert "<script>" not in text and "&lt;script&gt;&amp;" in text
    assert "listed on 30 of 30 lists" in message["text"]


def test_twenty_targets_mixed(full_catalog: Catalog) -> None:
    reports = [report(full_catalog, f"host{i}.example.com", [LISTED, CLEAN, UNKNOWN][i % 3],
                      kind="domain", detail="SERVFAIL") for i in range(20)]
    message = result_message(t, CheckRun(reports), " ".join(f"host{i}.example.com" for i in range(20)),
                             errors=["10.0.0.1 is a private address; blocklists only list public ones."] * 20)
    payload = message.payload()
    assert_fits(payload)
    assert "7 of 20 addresses and domains listed" in payload["text"]
    assert payload["text"].startswith("Your targets:")  # a long request is not repeated in the header


def test_public_resolver_refusal_says_what_to_do(full_catalog: Catalog) -> None:
    r = report(full_catalog, "11.22.33.44", CLEAN)
    r.checks[0] = ListCheck(full_catalog.by_id("spamhaus-zen"), ERROR, cause="public-resolver",
                            done=True)
    shown = blocks_to_text(result_message(t, CheckRun([r]), "11.22.33.44").blocks)
    assert ("Spamhaus ZEN refused the query: your resolver is a public one — set up a local "
            "resolver or a DQS key") in shown
    assert "could not be checked" in shown


def test_checking_and_usage_messages_fit() -> None:
    assert_fits(checking_message(t, "x" * 5000, 30, (3, 256)).payload())
    assert_fits(usage_message(t, "<bad> & " * 2000).payload())


def test_long_and_quoted_requests_keep_buttons_and_size_in_bounds(full_catalog: Catalog) -> None:
    names = [f"{'q' * 60}{i}.{'x' * 60}.example.com" for i in range(20)]
    reports = [report(full_catalog, n, [LISTED, UNKNOWN][i % 2], "r" * 3000, kind="domain",
                      detail="SERVFAIL " * 40) for i, n in enumerate(names)]
    asked = " ".join(names) + ' "' * 900 + "\\" * 300
    message = result_message(t, CheckRun(reports), asked, errors=["e" * 2500] * 20).payload()
    assert_fits(message)
    for block in message["blocks"]:
        for element in block.get("elements", []):
            assert len(element.get("value", "")) <= 2000


def test_partial_answer_names_pending_lists_and_has_no_buttons(full_catalog: Catalog) -> None:
    from bot.render.blocks import snapshot

    r = report(full_catalog, "11.22.33.44", CLEAN)
    r.checks[0] = ListCheck(full_catalog.by_id("spamhaus-zen"), LISTED, codes=("127.0.0.4",),
                            meanings=("XBL",), done=True)
    r.checks[1].done = False  # still in flight
    message = result_message(t, CheckRun(snapshot([r])), "11.22.33.44", progress=(0, 1)).payload()
    assert_fits(message)
    assert message["text"] == ("11.22.33.44: listed on 1 of 30 lists so far, still waiting for 1 "
                               "list: Spamhaus ZEN")
    assert f"Still waiting for 1 list: {r.checks[1].list.name}." in blocks_to_text(message["blocks"])
    assert not [b for b in message["blocks"] if b["type"] == "actions"]
