"""A watch's listing timeline as a picture: one row per list, a bar for every span an address
of the watch was listed, over the last 90 days. A host that is re-listed every week shows as a
row of short bars, a listing nobody fixes as one long bar to the right edge.

`spans` is pure (events in, intervals out); `draw` renders them with matplotlib (Agg, no
display) to PNG bytes. Labels are list names and dates only, so the picture needs no fonts
beyond matplotlib's own whatever the user's language; the message around it is translated.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

DAY = 86400.0
WINDOW_DAYS = 90


@dataclass(frozen=True)
class Event:
    at: float
    address: str
    list_id: str
    kind: str  # "listed" or "delisted"


def spans(events: Iterable[Event], start: float, end: float) -> dict[str, list[tuple[float, float]]]:
    """Per list, the merged intervals (within [start, end]) when any address was listed on it.
    A listing still open runs to `end`; one that began before `start` is cut there."""
    opened: dict[tuple[str, str], float] = {}
    raw: dict[str, list[tuple[float, float]]] = {}
    for event in sorted(events, key=lambda x: x.at):
        key = (event.address, event.list_id)
        if event.kind == "listed":
            opened.setdefault(key, event.at)
        elif event.kind == "delisted" and key in opened:
            raw.setdefault(event.list_id, []).append((opened.pop(key), event.at))
    for (_, list_id), since in opened.items():
        raw.setdefault(list_id, []).append((since, end))
    result: dict[str, list[tuple[float, float]]] = {}
    for list_id, intervals in raw.items():
        merged: list[tuple[float, float]] = []
        for began, ended in sorted(intervals):
            if ended < start or began > end:
                continue
            began, ended = max(began, start), min(ended, end)
            if merged and began <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], ended))
            else:
                merged.append((began, ended))
        if merged:
            result[list_id] = merged
    return result


def draw(target: str, by_list: Mapping[str, list[tuple[float, float]]], names: Mapping[str, str],
         start: float, end: float) -> bytes:
    """PNG bytes of the timeline (an empty chart says "no listing" by having no bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    rows = sorted(by_list, key=lambda lid: names.get(lid, lid).lower()) or ["-"]
    height = 1.4 + 0.45 * len(rows)
    fig, ax = plt.subplots(figsize=(9, height), dpi=100)
    try:
        def day(ts: float) -> float:
            return float(mdates.date2num(datetime.fromtimestamp(ts, UTC)))

        for y, list_id in enumerate(rows):
            bars = [(day(s), max(day(e) - day(s), 0.15)) for s, e in by_list.get(list_id, [])]
            ax.broken_barh(bars, (y - 0.35, 0.7), facecolors="#d9534f")
        ax.set_yticks(range(len(rows)), [names.get(r, r) for r in rows])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.invert_yaxis()
        ax.set_xlim(day(start), day(end))
        ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO, interval=2))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title(f"{target}: listed spans per list, {WINDOW_DAYS} days to "
                     f"{datetime.fromtimestamp(end, UTC):%Y-%m-%d %H:%M} UTC", fontsize=10)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)


def timeline_png(target: str, events: Iterable[Event], names: Mapping[str, str], now: float,
                 days: int = WINDOW_DAYS) -> tuple[bytes, dict[str, list[tuple[float, float]]]]:
    start = now - days * DAY
    by_list = spans(events, start, now)
    return draw(target, by_list, names, start, now), by_list
