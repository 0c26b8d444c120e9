"""The one check flow every Slack surface shares: words in, a Slack message out, with progress
updates while DNS works. Listeners supply how to show a message (response_url or chat.update)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_bolt.async_app import AsyncRespond

from bot.errors import TargetError
from bot.i18n import Messages
from bot.render.blocks import Message, checking_message, notice_message, result_message, usage_message
from bot.services import Services
from bot.targets import Target, parse_targets, split_words

log = logging.getLogger(__name__)

Show = Callable[[Message], Awaitable[None]]

PROGRESS_AFTER = 2.0  # seconds before the first "checked N of M" update
PROGRESS_EVERY = 4.0
PROGRESS_UPDATES = 2  # a response_url takes 5 posts; keep room for the answer

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


_LOOKS_LIKE_TARGET = re.compile(r"^[^\s]*(?:\w\.\w|:[0-9a-f]*:|@\w)[^\s]*$", re.IGNORECASE)


def parse_request(text: str, lenient: bool = False) -> Request:
    """`lenient` is for chat (mentions, DMs): words that cannot be an address or a domain are
    conversation, not errors."""
    words = split_words(slack_text(text))
    if lenient:
        words = [w for w in (w.strip(".,;:!?()[]\"'") for w in words) if _LOOKS_LIKE_TARGET.match(w)]
    asked = " ".join(words)
    if asked.lower() in HELP_WORDS:
        return Request(asked, [], [], wants_help=True)
    try:
        targets, errors = parse_targets(words)
    except TargetError as exc:
        return Request(asked, [], [], problem=str(exc))
    messages = [str(e) for e in errors]
    if not targets:
        return Request(asked, [], messages, problem="\n".join(messages))
    return Request(asked, targets, messages)


def refusal(t: Messages, request: Request, command: str = "/blcheck") -> Message:
    return usage_message(t, None if request.wants_help else request.problem, command)


async def check_and_show(services: Services, t: Messages, request: Request, show: Show) -> None:
    """Check `request` and `show` the result, with "checked N of M" updates while a long check
    runs. `show` replaces the first answer (response_url or chat.update: the caller's choice).
    A failure inside the engine is logged and shown as one plain sentence."""
    try:
        result = await _run_check(services, t, request, show)
    except Exception:
        log.exception("check of %r failed", request.asked)
        result = notice_message(t("error.internal", what=request.asked), "error")
    await show(result)


def replace_with_respond(respond: AsyncRespond, response_type: str) -> Show:
    """Show messages by replacing the original through the request's response_url."""

    async def show(message: Message) -> None:
        await respond(response_type=response_type, replace_original=True, **message.payload())

    return show


async def _run_check(services: Services, t: Messages, request: Request, show: Show) -> Message:
    lists = services.lists_for(request.targets)
    state = {"done": 0, "total": 0}
    showing = asyncio.Lock()  # a progress update never lands after the answer
    finished = False

    def progress(done: int, total: int) -> None:
        state["done"], state["total"] = done, total

    async def report_progress() -> None:
        await asyncio.sleep(PROGRESS_AFTER)
        for _ in range(PROGRESS_UPDATES):
            async with showing:
                if finished:
                    return
                if state["total"] > 1:
                    try:
                        await show(checking_message(t, request.asked, lists,
                                                    (state["done"], state["total"])))
                    except Exception:  # a lost progress line must not lose the answer
                        log.warning("progress update failed", exc_info=True)
            await asyncio.sleep(PROGRESS_EVERY)

    reporter = asyncio.ensure_future(report_progress())
    try:
        run = await services.checker.check_targets(request.targets, progress)
    finally:
        finished = True
        async with showing:
            reporter.cancel()
    return result_message(t, run, request.asked, request.errors)


def first_answer(services: Services, t: Messages, request: Request) -> Message:
    return checking_message(t, request.asked, services.lists_for(request.targets))
