"""The Slack stand-in behaves like Slack towards the real slack_sdk clients, so e2e tests can trust it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.slackstub import (
    APP_TOKEN,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    TEAM_ID,
    SlackStandIn,
)


@pytest.fixture
async def stub() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn() as s:
        yield s


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def test_auth_test_and_tokens(stub: SlackStandIn) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=stub.api_url)
    res = await client.auth_test()
    assert (res["team_id"], res["user_id"], res["bot_id"]) == (TEAM_ID, BOT_USER_ID, BOT_ID)
    assert stub.calls_to("auth.test")[0].headers["authorization"] == f"Bearer {BOT_TOKEN}"

    with pytest.raises(SlackApiError) as wrong:
        await AsyncWebClient(token="xoxb-wrong", base_url=stub.api_url).auth_test()
    assert wrong.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as missing:
        await AsyncWebClient(base_url=stub.api_url).auth_test()
    assert missing.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as bot_token_for_socket:
        await client.apps_connections_open(app_token=BOT_TOKEN)
    assert bot_token_for_socket.value.response["error"] == "invalid_auth"
    assert [c.error for c in stub.calls] == [None, "invalid_auth", "not_authed", "invalid_auth"]
    assert stub.violations == []


async def test_messages_threads_and_updates(stub: SlackStandIn) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=stub.api_url)
    parent = await client.chat_postMessage(channel="C1", text="parent")
    reply = await client.chat_postMessage(channel="C1", text="reply", thread_ts=parent["ts"],
                                          blocks=[_section("*reply*")])
    assert float(reply["ts"]) > float(parent["ts"])
    await client.chat_update(channel="C1", ts=reply["ts"], text="edited", blocks=[_section("edited")])
    assert [m["text"] for m in stub.thread("C1", parent["ts"])] == ["parent", "edited"]
    assert stub.messages["C1"][1]["blocks"] == [_section("edited")]
    eph = await client.chat_postEphemeral(channel="C1", user="U1", text="psst")
    assert eph["message_ts"] and stub.ephemerals[0]["user"] == "U1"
    await client.views_publish(user_id="U1", view={"type": "home", "blocks": [_section("home")]})
    assert stub.views["U1"]["blocks"] == [_section("home")]
    info = await client.conversations_info(channel="C1")
    assert info["channel"]["is_member"] is True
    assert (await client.users_info(user="U1"))["user"]["tz"] == "UTC"

    with pytest.raises(SlackApiError) as unknown:
        await client.chat_update(channel="C1", ts="1.000001", text="x")
    assert unknown.value.response["error"] == "message_not_found"
    assert stub.violations == []


async def test_unknown_method_is_a_violation(stub: SlackStandIn) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=stub.api_url)
    with pytest.raises(SlackApiError) as err:
        await client.api_call("conversations.archive", params={"channel": "C1", "ts": "1.1"})
    assert err.value.response["error"] == "unknown_method"
    assert stub.violations and "conversations.archive" in stub.violations[0]


async def test_rate_limit_then_retry(stub: SlackStandIn) -> None:
    stub.fail("chat.postMessage", 429, retry_after=1)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=stub.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    res = await client.chat_postMessage(channel="C1", text="hi")
    assert res["ok"] is True
    attempts = stub.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert len(stub.messages["C1"]) == 1


async def test_scripted_failures(stub: SlackStandIn) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=stub.api_url)
    stub.fail("chat.postMessage", 200, error="not_in_channel")
    stub.fail("chat.postMessage", 429)
    with pytest.raises(SlackApiError) as first:
        await client.chat_postMessage(channel="C1", text="x")
    assert first.value.response["error"] == "not_in_channel"
    with pytest.raises(SlackApiError) as second:
        await client.chat_postMessage(channel="C1", text="x")
    assert second.value.response.status_code == 429
    assert "Retry-After" not in second.value.response.headers
    stub.fail("reactions.add", 503)
    async with aiohttp.ClientSession() as http, \
            http.post(stub.api_url + "reactions.add", data={"token": BOT_TOKEN}) as resp:
        assert (resp.status, await resp.text()) == (503, "internal error")
    assert (await client.chat_postMessage(channel="C1", text="x"))["ok"] is True
    assert [c.status for c in stub.calls] == [200, 429, 503, 200]


async def test_strict_block_checks(stub: SlackStandIn) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=stub.api_url)
    await client.chat_postMessage(channel="C1", text="many", blocks=[_section(str(i)) for i in range(51)])
    assert len(stub.violations) == 1 and "51 blocks, limit 50" in stub.violations[0]
    stub.violations.clear()
    with pytest.warns(UserWarning, match="text"):  # slack_sdk warns too; the stand-in records it
        await client.chat_postMessage(channel="C1", blocks=[
            _section("x" * 3001),
            {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11},
        ])
    text = "\n".join(stub.violations)
    for expected in ("3001 chars, limit 3000", "151 chars, limit 150", "11 fields, limit 10",
                     "without a top-level text"):
        assert expected in text
    stub.violations.clear()
    await client.views_publish(user_id="U1", view={"type": "home", "blocks": [_section("x")] * 101})
    assert len(stub.violations) == 1 and "101 blocks, limit 100" in stub.violations[0]
    assert SlackStandIn(strict=False).violations == []


async def test_response_url_sink(stub: SlackStandIn) -> None:
    url_a, url_b = stub.new_response_url(), stub.new_response_url()
    assert url_a != url_b and url_a.startswith(stub.base + "/response/")
    stub.fail("response_url", 500)
    res = await AsyncWebhookClient(url_a).send(text="first", response_type="ephemeral")
    assert res.status_code == 500
    res = await AsyncWebhookClient(url_a).send(text="again", response_type="ephemeral")
    assert (res.status_code, res.body) == (200, "ok")
    await AsyncWebhookClient(url_b).send(text="b", blocks=[_section("b")], replace_original=True)
    assert [p.body["text"] for p in stub.posts_to(url_a)] == ["again"]
    assert stub.posts_to(url_b)[0].body["replace_original"] is True
    assert [p.status for p in stub.rejected] == [500]
    assert stub.violations == []


def test_payloads_and_signature(stub: SlackStandIn) -> None:
    body, url = stub.command_body("1.2.3.4")
    form = dict(parse_qsl(body))
    assert (form["command"], form["text"], form["response_url"]) == ("/blcheck", "1.2.3.4", url)
    assert set(form) >= {"token", "team_id", "team_domain", "channel_id", "channel_name", "user_id",
                         "user_name", "api_app_id", "is_enterprise_install", "trigger_id"}
    headers = stub.signed_headers(body)
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier(SIGNING_SECRET).is_valid_request(body + "x", headers)
    old = stub.signed_headers(body, timestamp=1)
    assert not SignatureVerifier(SIGNING_SECRET).is_valid_request(body, old)

    event = stub.event_body(stub.mention_event(f"<@{BOT_USER_ID}> check 1.2.3.4"))
    assert event["type"] == "event_callback" and event["event_id"].startswith("Ev")
    payload, action_url = stub.action_payload("recheck", "1.2.3.4")
    assert payload["actions"][0]["action_id"] == "recheck" and payload["response_url"] == action_url
    assert json.loads(dict(parse_qsl(stub.interactive_body(payload)))["payload"]) == payload


async def test_socket_mode_push_ack_and_reconnect(stub: SlackStandIn) -> None:
    web_client = AsyncWebClient(token=BOT_TOKEN, base_url=stub.api_url)
    client = SocketModeClient(app_token=APP_TOKEN, web_client=web_client)

    async def listener(c: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        payload = {"text": "working on it"} if req.type == "slash_commands" else None
        await c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload=payload))

    client.socket_mode_request_listeners.append(listener)
    try:
        await client.connect()  # type: ignore[no-untyped-call]
        await asyncio.wait_for(stub.ws_connected.wait(), 2)
        assert stub.calls_to("apps.connections.open")[0].headers["authorization"] == f"Bearer {APP_TOKEN}"

        event_id = await stub.push("events_api", stub.event_body(stub.mention_event("hi")))
        assert await stub.wait_ack(event_id) == {"envelope_id": event_id}
        command, _ = stub.command_payload("1.2.3.4")
        command_id = await stub.push("slash_commands", command)
        ack = await stub.wait_ack(command_id)
        assert ack["payload"] == {"text": "working on it"}
        assert stub.pushed[command_id]["accepts_response_payload"] is True
        assert 0 <= stub.ack_delays[command_id] < 1

        await stub.disconnect()
        await stub.wait_for(lambda: stub.connections == 2 and stub.ws_connected.is_set(), timeout=3)
        again = await stub.push("events_api", stub.event_body({"type": "message", "text": "x"}),
                                retry_attempt=1, retry_reason="timeout")
        await stub.wait_ack(again)
        assert stub.pushed[again]["retry_attempt"] == 1
    finally:
        await client.close()  # type: ignore[no-untyped-call]
    assert stub.violations == []


async def test_wait_helpers_explain_timeouts(stub: SlackStandIn) -> None:
    with pytest.raises(AssertionError, match=r"chat\.postMessage"):
        await stub.wait_for(lambda: bool(stub.calls_to("chat.postMessage")), timeout=0.05)
    with pytest.raises(AssertionError, match="never pushed"):
        await stub.wait_ack("nope", timeout=0.05)
