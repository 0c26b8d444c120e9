"""What changed between the listings on record and a check (pure), and how a second look at
the items a list did not answer fills the gaps."""

from __future__ import annotations

from bot.watch.diff import Observation, Seen, diff

XBL = Seen("127.0.0.4", "Listed by XBL", "XBL", "Spamhaus ZEN")


def test_a_second_look_fills_gaps_and_never_overrides_an_answer() -> None:
    first = Observation({("a", "zen"): XBL}, {("b", "zen")}, unanswered={"c", "d"})
    second = Observation({("c", "zen"): XBL, ("b", "zen"): XBL}, {("a", "zen"), ("d", "zen")},
                         unanswered={"d", "e"})
    first.merge(second)
    assert first.listed == {("a", "zen"): XBL, ("c", "zen"): XBL}  # b stays clean, a stays listed
    assert first.clean == {("b", "zen"), ("d", "zen")}
    assert first.unanswered == {"d"}


def test_unknown_changes_nothing() -> None:
    obs = Observation({}, {("a", "zen")}, unanswered={"b"})
    change = diff({("a", "zen"), ("b", "zen")}, obs)
    assert change.gone == {("a", "zen")} and not change.new  # b was not answered: still listed
