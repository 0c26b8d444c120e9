"""Query budgets as data: the shipped file names real lists, operators override or switch a
budget off, and a spent budget comes back on the next UTC day."""

from __future__ import annotations

import pytest

from bot.dnsbl.budget import Budgets, load_budgets
from bot.dnsbl.catalog import load_catalog
from bot.errors import ConfigError


def test_every_budgeted_list_is_in_the_catalog() -> None:
    catalog = load_catalog(dqs_key="a" * 26)  # with a key, the DQS-only Spamhaus lists exist too
    ids = {bl.id for bl in catalog}
    for budget in load_budgets({}):
        assert budget.lists <= ids, budget.id
    (spamhaus,) = load_budgets({})
    assert spamhaus.per_day == 300_000 and "spamhaus-zen" in spamhaus.lists


def test_operator_overrides_and_switch_off() -> None:
    assert load_budgets({"BLCHECK_BUDGET_SPAMHAUS": "1000000"})[0].per_day == 1_000_000
    assert load_budgets({"BLCHECK_BUDGET_SPAMHAUS": "0"}) == []
    with pytest.raises(ConfigError, match="BLCHECK_BUDGET_SPAMHAUS must be a whole number"):
        load_budgets({"BLCHECK_BUDGET_SPAMHAUS": "lots"})


def test_a_spent_budget_refuses_until_the_next_utc_day_and_shares_totals() -> None:
    now = [1_700_000_000.0]  # 2023-11-14 22:13 UTC
    budgets = Budgets(load_budgets({"BLCHECK_BUDGET_SPAMHAUS": "3"}), clock=lambda: now[0])
    assert [budgets.take("spamhaus-zen") for _ in range(4)] == [True, True, True, False]
    assert budgets.take("spamcop")  # not budgeted
    day, spent = budgets.drain()
    assert (day, spent) == ("2023-11-14", {"spamhaus": 3})
    budgets.sync(day, {"spamhaus": 3})
    assert budgets.used("spamhaus") == 3
    now[0] += 2 * 3600  # past midnight UTC
    assert budgets.take("spamhaus-dbl") and budgets.used("spamhaus") == 1
    budgets.sync("2023-11-14", {"spamhaus": 99})  # a late total for yesterday changes nothing
    assert budgets.used("spamhaus") == 1
