"""Both languages render within Block Kit's limits: real checks against rbldnsd (a /24 with
every address listed is the biggest answer), a real bounce diagnosis, alerts with hundreds of
listings, the guide. Japanese runs longer in characters per idea in places; the limits hold."""

from __future__ import annotations

import json
import re

import pytest

from bot.bounce.diagnose import diagnose, live_check
from bot.bounce.rules import default_rules
from bot.dnsbl.budget import load_budgets
from bot.dnsbl.catalog import Catalog
from bot.dnsbl.checker import Checker
from bot.dnsbl.localserver import LocalBlocklistServer
from bot.dnsbl.transport import Nameserver
from bot.i18n import messages
from bot.render.alerts import AlertRenderer
from bot.render.blocks import guide_message, result_message, usage_message
from bot.render.diagnosis import diagnosis_message
from bot.targets import parse_target
from bot.watch.store import Listing, Watch
from tests.slackstub import message_problems

BOUNCE = """Reporting-MTA: dns; mail.example.org

Final-Recipient: rfc822; someone@example.net
Action: failed
Status: 5.7.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 554 5.7.1 Service unavailable; Client host [11.22.33.44] blocked using
 zen.spamhaus.org; https://check.spamhaus.org/query/ip/11.22.33.44
"""


def fits(payload: dict) -> None:
    problems = message_problems(payload)
    assert not problems, problems
    assert len(json.dumps(payload["blocks"])) < 50_000


@pytest.mark.parametrize("lang", ["en", "ja"])
async def test_checks_and_diagnoses_fit_in_both_languages(
        lang: str, full_catalog: Catalog, demo_server: LocalBlocklistServer) -> None:
    t = messages(lang)
    checker = Checker.for_nameservers(full_catalog, [Nameserver.parse(demo_server.address)], timeout=1.0)
    async with checker.client:
        targets = [parse_target("11.22.33.0/24"), parse_target("11.22.33.44"), parse_target("203.0.113.9")]
        run = await checker.check_targets(targets, fresh=True)
        asked = "11.22.33.0/24 11.22.33.44 203.0.113.9"
        done = result_message(t, run, asked, notes=[t("guide.more", command="/blcheck")])
        fits(done.payload())
        assert "Spamhaus ZEN" in done.text
        assert bool(re.search("[\u3040-\u30ff]", done.text)) == (lang == "ja")  # kana: Japanese
        fits(result_message(t, run, asked, progress=(100, 258)).payload())
        result = diagnose(BOUNCE)
        await live_check(result, checker)
        diagnosis = diagnosis_message(t, result, default_rules())
        fits(diagnosis.payload())
        assert t.text(result.failures[0].remedy or "") in json.dumps(diagnosis.payload(), ensure_ascii=False)
    fits(guide_message(t).payload())
    fits(usage_message(t, "x" * 5000).payload())


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_alerts_fit_in_both_languages(lang: str, full_catalog: Catalog) -> None:
    renderer = AlertRenderer(messages(lang), full_catalog)
    watch = Watch(1, "T", "C", "11.22.0.0/16", 1800, 0.0, None, None, True)
    many = [Listing(f"11.22.{i // 256}.{i % 256}", lid, "127.0.0.4", "Listed by XBL " + "x" * 300, 0.0)
            for i in range(300) for lid in ("spamhaus-zen", "spamcop")]
    spamhaus = load_budgets({})[0]
    for payload in (renderer.baseline(watch, many), renderer.alert(watch, many, many),
                    renderer.added(watch, many), renderer.removed(watch, many, 5),
                    renderer.all_clear(watch, many), renderer.state(watch, many, True),
                    renderer.list_health("spamhaus-zen", False, "test point failed " * 50),
                    renderer.budget(spamhaus, 250_000), renderer.budget(spamhaus, 300_000)):
        fits(payload)
