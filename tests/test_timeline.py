"""The timeline's spans: what the picture draws, from the events a watch recorded."""

from __future__ import annotations

from bot.render.timeline import DAY, Event, spans

NOW = 1_800_000_000.0
START = NOW - 90 * DAY


def test_open_listings_run_to_now_and_old_ones_are_cut_at_the_window() -> None:
    events = [Event(START - 10 * DAY, "a", "zen", "listed"),
              Event(START + DAY, "a", "zen", "delisted"),
              Event(NOW - 3 * DAY, "b", "spamcop", "listed"),
              Event(START - 40 * DAY, "c", "psbl", "listed"),
              Event(START - 30 * DAY, "c", "psbl", "delisted")]
    assert spans(events, START, NOW) == {"zen": [(START, START + DAY)], "spamcop": [(NOW - 3 * DAY, NOW)]}


def test_overlapping_listings_of_two_addresses_on_one_list_are_one_bar() -> None:
    events = [Event(NOW - 10 * DAY, "a", "zen", "listed"), Event(NOW - 8 * DAY, "b", "zen", "listed"),
              Event(NOW - 6 * DAY, "a", "zen", "delisted"), Event(NOW - 5 * DAY, "b", "zen", "delisted"),
              Event(NOW - 2 * DAY, "a", "zen", "listed")]
    assert spans(events, START, NOW) == {"zen": [(NOW - 10 * DAY, NOW - 5 * DAY), (NOW - 2 * DAY, NOW)]}
