"""The one check flow every Slack surface shares: words in, a Slack message out, with progress
updates while DNS works. Listeners supply how to show a message (response_url or chat.update)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from slack_bolt.async_app import AsyncRespond

from bot.dnsbl.checker import CheckRun
from bot.dnsbl.results import Report
from bot.errors import TargetError
from bot.i18n import Messages
from bot.render.blocks import (
    Message,
    checking_message,
    guide_message,
    notice_message,
    result_message,
    snapshot,
    usage_message,
)
from bot.services import Services
from bot.targets import Target, parse_targets, split_words

log = logging.getLogger(__name__)

Show = Callable[[Message], Awaitable[None]]

_SLACK_LINK = re.compile(r"<(?:mailto:|https?://)?([^>|]*)(?:\|([^>]*))?>")
_MENTION = re.compile(r"<[@#!][^>]*>")
HELP_WORDS = {"", "help", "-h", "--help", "?", "usage"}


def slack_text(text: str) -> str:
    """Plain words from Slack-formatted text: `<mailto:a@b|a@b>`, `<http://x|x>` and mentions
    unwrapped or dropped, `&lt;` `&gt;` `&amp;` decoded."""
    text = _MENTION.sub(" ", text)
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass
class Request:
    """A parsed request: what to check, what was refused, or why nothing can be checked."""

    asked: str
    targets: list[Target]
    errors: list[str]
    problem: str | None = None  # set when there is nothing to check: shown with the usage
    wants_help: bool = False
    notes: list[str] = field(default_factory=list)  # caveats (documentation addresses, ...)


_LOOKS_LIKE_TARGET = re.compile(r"^[^\s]*(?:\w\.\w|:[0-9a-f]*:|@\w)[^\s]*$", re.IGNORECASE)


def parse_request(t: Messages, text: str, lenient: bool = False) -> Request:
    """`lenient` is for chat (mentions, DMs): words that cannot be an address or a domain are
    conversation, not errors. Refusals and caveats come in the reader's language `t`."""
    words = split_words(slack_text(text))
    if lenient:
        words = [w for w in (w.strip(".,;:!?()[]\"'") for w in words) if _LOOKS_LIKE_TARGET.match(w)]
    asked = " ".join(words)
    if asked.lower() in HELP_WORDS:
        return Request(asked, [], [], wants_help=True)
    try:
        targets, errors = parse_targets(words)
    except TargetError as exc:
        return Request(asked, [], [], problem=exc.text.render(t))
    messages = [e.text.render(t) for e in errors]
    if not targets:
        return Request(asked, [], messages, problem="\n".join(messages))
    notes = [c.render(t) for target in targets if (c := target.caveat)]
    return Request(asked, targets, messages, notes=notes)


def refusal(t: Messages, request: Request, command: str = "/blcheck", lists: int = 30) -> Message:
    """Nothing typed: the first-run guide; `help`: every option; a bad target: why, and how."""
    if request.wants_help and not request.asked:
        return guide_message(t, command, lists)
    return usage_message(t, None if request.wants_help else request.problem, command)


class Answer:
    """One check as the user sees it: the result at once when DNS is quick, otherwise a first
    answer naming the lists still pending, updated in place, then the result.

    Slack needs an acknowledgement within 3 seconds, and a reply through the response_url must
    not arrive before the message it replaces; so a check that ends within `QUICK` seconds is
    answered in the acknowledgement itself, and a later one leaves `GAP` seconds after it."""

    QUICK = 1.5  # seconds to wait for the whole answer before acknowledging
    GAP = 1.0  # seconds between the first answer and the first replacement
    EVERY = 3.0  # seconds between partial updates
    UPDATES = 2  # a response_url takes 5 posts; keep room for the answer

    def __init__(self, services: Services, t: Messages, request: Request) -> None:
        self.services = services
        self.t = t
        self.request = request
        self.live: list[Report] = []
        self.progress = (0, 0)
        self.complete = False  # the result has been handed out
        self.task: asyncio.Future[Message] = asyncio.ensure_future(self._check())

    async def _check(self) -> Message:
        def progress(done: int, total: int) -> None:
            self.progress = (done, total)

        try:
            run = await self.services.checker.check_targets(self.request.targets, progress, self.live)
        except Exception:
            log.exception("check of %r failed", self.request.asked)
            return notice_message(self.t("error.internal", what=self.request.asked), "error")
        again = " ".join(target.text for target in self.request.targets)
        return result_message(self.t, run, self.request.asked, self.request.errors, again=again,
                              notes=self.request.notes)

    async def result_within(self, seconds: float) -> Message | None:
        done, _ = await asyncio.wait({self.task}, timeout=max(0.0, seconds))
        return self.task.result() if done else None

    def partial(self) -> Message:
        """What is known so far: listings found, lists still pending."""
        if not self.live:
            return checking_message(self.t, self.request.asked,
                                    self.services.lists_for(self.request.targets))
        run = CheckRun(reports=snapshot(self.live))
        return result_message(self.t, run, self.request.asked, self.request.errors,
                              progress=self.progress)

    async def first(self) -> Message:
        """The result if it comes within QUICK seconds (then `complete` is true), else the
        partial answer, to be followed up."""
        result = await self.result_within(self.QUICK)
        if result is not None:
            self.complete = True
            return result
        return self.partial()

    async def follow_up(self, show: Show, shown_at: float) -> None:
        """Replace the first answer (shown at `shown_at`) with partial updates, then the result."""
        updates = 0
        wait = max(self.GAP, self.EVERY)
        while True:
            result = await self.result_within(shown_at + wait - time.monotonic())
            if result is None and updates < self.UPDATES:
                try:
                    await show(self.partial())
                except Exception:  # a lost update must not lose the answer
                    log.warning("partial update failed", exc_info=True)
                updates += 1
                shown_at = time.monotonic()
                continue
            if result is None:
                result = await self.task
            await asyncio.sleep(max(0.0, shown_at + self.GAP - time.monotonic()))
            await show(result)
            return

    def cancel(self) -> None:
        self.task.cancel()


def replace_with_respond(respond: AsyncRespond, response_type: str) -> Show:
    """Show messages by replacing the original through the request's response_url."""

    async def show(message: Message) -> None:
        await respond(response_type=response_type, replace_original=True, **message.payload())

    return show
