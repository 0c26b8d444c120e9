"""Watch alerts as Slack messages: the incident's root (current state, updated in place), and
the thread replies for each change and for the all-clear."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, HeaderBlock, PlainTextObject

from bot.dnsbl.budget import Budget
from bot.dnsbl.catalog import Catalog
from bot.dnsbl.decode import decode
from bot.i18n import Messages
from bot.render.blocks import Message, _Builder
from bot.render.mrkdwn import HEADER_LIMIT, clip, code, escape, link
from bot.watch.store import Listing, Watch

ACTION_RECHECK_WATCH = "blwatch_recheck"
ACTION_MUTE = "blwatch_mute"
MAX_LINES = 40


class AlertRenderer:
    """Implements the store's `Announcer`: payloads ready for chat.postMessage / chat.update."""

    def __init__(self, t: Messages, catalog: Catalog) -> None:
        self.t = t
        self.catalog = catalog

    def _name(self, list_id: str) -> str:
        try:
            return self.catalog.by_id(list_id).name
        except KeyError:
            return list_id

    def _meaning(self, x: Listing) -> str:
        """What the list's code means (from the catalog, as in /blcheck answers)."""
        try:
            return "; ".join(self.t.texts(decode(self.catalog.by_id(x.list_id), x.codes.split()).meanings))
        except KeyError:
            return ""

    def _lines(self, items: list[Listing], with_links: bool = True) -> list[str]:
        lines = []
        for x in items[:MAX_LINES]:
            line = f"• {code(x.address)} *{escape(self._name(x.list_id))}*"
            if x.codes:
                line += " " + " ".join(code(c) for c in x.codes.split())
                meaning = self._meaning(x)
                if meaning:
                    line += " " + escape(meaning)
            if x.reason:
                line += " — " + escape(clip(x.reason, 200))
            if with_links:
                try:
                    bl = self.catalog.by_id(x.list_id)
                    url = bl.url(bl.delist_url or bl.lookup_url, x.address)
                except KeyError:
                    url = None
                if url:
                    line += " · " + link(url, self.t("listing.delist"))
            lines.append(line)
        if len(items) > MAX_LINES:
            lines.append(self.t.n("alert.more", len(items) - MAX_LINES))
        return lines

    def _message(self, title: str, body: list[str], buttons: Watch | None = None) -> dict[str, Any]:
        b = _Builder()
        b.add(HeaderBlock(text=PlainTextObject(text=clip(title, HEADER_LIMIT), emoji=True)))
        if body:
            b.sections("", body)
        if buttons is not None:
            value = json.dumps({"w": buttons.id})
            b.tail(ActionsBlock(block_id="blwatch_actions", elements=[
                ButtonElement(text=self.t("button.recheck_now"), action_id=ACTION_RECHECK_WATCH, value=value),
                ButtonElement(text=self.t("button.mute"), action_id=ACTION_MUTE, value=value),
            ]))
        return Message(text=escape(title), blocks=b.dicts()).payload()

    def baseline(self, watch: Watch, current: list[Listing]) -> dict[str, Any]:
        addresses = len({x.address for x in current})
        if not current:
            return self._message(":eyes: " + self.t("alert.baseline_clean", target=watch.target), [])
        title = ":eyes: " + self.t.n("alert.baseline_listed", addresses, target=watch.target,
                                     lists=", ".join(sorted({self._name(x.list_id) for x in current})))
        return self._message(title, self._lines(current), watch)

    def alert(self, watch: Watch, current: list[Listing], new: list[Listing]) -> dict[str, Any]:
        title = ":rotating_light: " + self.t.n("alert.new", len(new), target=watch.target,
                                               lists=", ".join(sorted({self._name(x.list_id) for x in new})))
        return self._message(title, self._lines(current), watch)

    def added(self, watch: Watch, new: list[Listing]) -> dict[str, Any]:
        title = ":heavy_plus_sign: " + self.t.n("alert.added", len(new), target=watch.target)
        return self._message(title, self._lines(new))

    def removed(self, watch: Watch, gone: list[Listing], remaining: int) -> dict[str, Any]:
        title = ":heavy_minus_sign: " + self.t.n("alert.removed", len(gone), target=watch.target,
                                                 remaining=remaining)
        return self._message(title, self._lines(gone, with_links=False))

    def all_clear(self, watch: Watch, gone: list[Listing]) -> dict[str, Any]:
        title = ":white_check_mark: " + self.t("alert.all_clear", target=watch.target)
        return self._message(title, self._lines(gone, with_links=False))

    def state(self, watch: Watch, current: list[Listing], open_: bool) -> dict[str, Any]:
        if not open_:
            return self._message(":white_check_mark: " + self.t("alert.resolved", target=watch.target), [])
        title = ":rotating_light: " + self.t.n("alert.current", len(current), target=watch.target)
        return self._message(title, self._lines(current), watch)

    def budget(self, budget: Budget, used: int) -> dict[str, Any]:
        """Before (and when) a list's free-use volume runs out: what happens, and what to do."""
        values = {"name": budget.name, "used": f"{used:,}", "per_day": f"{budget.per_day:,}",
                  "share": f"{min(used / budget.per_day, 1):.0%}"}
        spent = used >= budget.per_day
        title = self.t("alert.budget_spent" if spent else "alert.budget_low", **values)
        effect = self.t("alert.budget_spent_effect" if spent else "alert.budget_effect")
        body = [effect, self.t(budget.advice)]
        if budget.source:
            body.append(self.t("alert.budget_source", url=budget.source))
        return self._message((":no_entry: " if spent else ":hourglass: ") + title, body)

    def list_health(self, list_id: str, usable: bool, detail: str | None) -> dict[str, Any]:
        name = self._name(list_id)
        if usable:
            return self._message(":white_check_mark: " + self.t("alert.list_back", list=name), [])
        return self._message(":warning: " + self.t("alert.list_sick", list=name),
                             [escape(detail or "")] if detail else [])
