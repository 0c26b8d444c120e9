"""Bounce diagnosis in Slack: text and shared files in, a threaded diagnosis out.

Shared by mentions, direct messages, the *Diagnose bounce* shortcut and passive channels.
Files are fetched with the bot token only from Slack's own file host (or the configured API
host in tests), never from a URL an event happens to carry.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.bounce.diagnose import diagnose, live_check
from bot.bounce.mime import MAX_INPUT
from bot.bounce.model import Diagnosis
from bot.bounce.rules import default_rules
from bot.i18n import Messages
from bot.render.blocks import Message
from bot.render.diagnosis import diagnosis_message
from bot.services import Services
from handlers.checks import slack_text

log = logging.getLogger(__name__)

MAX_FILES = 3
FILE_TIMEOUT = 20.0
_TEXTUAL = (".eml", ".txt", ".log", ".msg", ".text")


def _trusted_host(url: str, services: Services) -> bool:
    host = urlsplit(url).hostname or ""
    api_host = urlsplit(services.settings.api_url).hostname or ""
    return host == "files.slack.com" or host.endswith(".slack.com") or host == api_host


async def fetch_files(services: Services, token: str | None, files: list[dict[str, Any]],
                      t: Messages) -> tuple[list[bytes], list[str]]:
    """The text of shared .eml/.txt files, and one sentence per file that could not be used."""
    contents: list[bytes] = []
    problems: list[str] = []
    for f in files[:MAX_FILES]:
        name = str(f.get("name") or f.get("title") or "file")
        mimetype = str(f.get("mimetype") or "")
        textual = name.lower().endswith(_TEXTUAL) or mimetype.startswith(("text/", "message/"))
        if not textual:
            problems.append(t("bounce.file_not_text", name=name))
            continue
        if int(f.get("size") or 0) > MAX_INPUT:
            problems.append(t("bounce.file_too_big", name=name, mb=MAX_INPUT // (1024 * 1024)))
            continue
        url = str(f.get("url_private_download") or f.get("url_private") or "")
        if not url or not _trusted_host(url, services):
            problems.append(t("bounce.file_unreachable", name=name))
            continue
        try:
            timeout = aiohttp.ClientTimeout(total=FILE_TIMEOUT)
            async with aiohttp.ClientSession(timeout=timeout) as session, session.get(
                    url, headers={"Authorization": f"Bearer {token}"}) as resp:
                if resp.status != 200:
                    problems.append(t("bounce.file_unreachable", name=name))
                    continue
                data = await resp.content.read(MAX_INPUT + 1)
        except (aiohttp.ClientError, TimeoutError):
            problems.append(t("bounce.file_unreachable", name=name))
            continue
        if b"\x00" in data[:65536]:
            problems.append(t("bounce.file_not_text", name=name))
            continue
        contents.append(data)
    return contents, problems


def diagnose_all(text: str, contents: list[bytes]) -> Diagnosis:
    """One diagnosis over the message text and every file."""
    combined = Diagnosis(is_bounce=False)
    items: list[bytes | str] = [slack_text(text) if text else "", *contents]
    for item in items:
        if not item:
            continue
        result = diagnose(item)
        combined.failures.extend(result.failures)
        combined.notes.extend(result.notes)
        combined.is_bounce = combined.is_bounce or result.is_bounce
    return combined


async def diagnosis_reply(services: Services, t: Messages, result: Diagnosis) -> Message:
    """The message for a diagnosis, after re-checking the refused IPs live."""
    if result.is_bounce:
        try:
            await live_check(result, services.checker)
        except Exception:  # the diagnosis stands without the live check
            log.warning("live check failed", exc_info=True)
    return diagnosis_message(t, result, default_rules())


async def post_in_thread(client: AsyncWebClient, channel: str, thread_ts: str | None,
                         message: Message) -> None:
    await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message.payload())


async def thread_root(client: AsyncWebClient, channel: str, thread_ts: str) -> dict[str, Any] | None:
    """The first message of a thread (the pasted bounce a mention in the thread refers to)."""
    response = await client.conversations_replies(channel=channel, ts=thread_ts, limit=1)
    messages = response.get("messages") or []
    return messages[0] if messages else None
