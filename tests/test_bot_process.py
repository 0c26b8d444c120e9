"""The bot started as a user starts it (`python -m bot` with environment variables), in each mode,
against the Slack stand-in and rbldnsd on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import aiohttp
import pytest

from bot.dnsbl.localserver import LocalBlocklistServer
from tests.slackstub import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, SlackStandIn

ROOT = Path(__file__).parent.parent


def bot_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "BLCHECK_", "LC_")) or k == "BLCHECK_TEST_GUARD_LOG"}
    env["LANG"] = "C.UTF-8"  # the console's user speaks the terminal's language: English here
    env.update(extra)
    return env


class BotProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.output = b""

    async def exited(self) -> tuple[int, str]:
        """Wait for the process to end by itself (a start-up error)."""
        out, _ = await asyncio.wait_for(self.proc.communicate(), 20)
        return self.proc.returncode or 0, out.decode()

    async def stop(self) -> tuple[int, str]:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(self.proc.communicate(), 20)
        self.output += out
        return self.proc.returncode or 0, self.output.decode()


async def start(args: list[str], env: Mapping[str, str], cwd: Path,
                stdin: int | None = None) -> BotProcess:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=dict(env), cwd=cwd, stdin=stdin,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    return BotProcess(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """A working directory without a .env, so only the test's environment counts."""
    return tmp_path


async def test_socket_mode_process_answers_a_command(slack: SlackStandIn, cwd: Path,
                                                     demo_server: LocalBlocklistServer) -> None:
    env = bot_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=slack.api_url,
                  BLCHECK_NAMESERVERS=demo_server.address, PYTHONPATH=os.environ["PYTHONPATH"]
                  + os.pathsep + str(ROOT))
    bot = await start([], env, cwd)
    try:
        await asyncio.wait_for(slack.ws_connected.wait(), 20)
        payload, url = slack.command_payload("11.22.33.44")
        pushed = time.monotonic()
        envelope = await slack.push("slash_commands", payload)
        ack = await slack.wait_ack(envelope)
        acked = time.monotonic() - pushed
        assert ack["payload"]["text"] == "11.22.33.44 is listed on 2 of 30 lists: SpamCop, Spamhaus ZEN"
        print(f"socket mode: answered in the ack after {acked * 1000:.0f} ms")
        assert slack.posts_to(url) == []
    finally:
        code, output = await bot.stop()
    assert code == 0, output
    assert BOT_TOKEN not in output and APP_TOKEN not in output
    assert "connected to Slack in Socket Mode" in output


async def test_http_mode_process_answers_a_signed_command(slack: SlackStandIn, cwd: Path,
                                                          demo_server: LocalBlocklistServer) -> None:
    port = free_port()
    env = bot_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                  SLACK_API_URL=slack.api_url, BLCHECK_NAMESERVERS=demo_server.address,
                  BLCHECK_HOST="127.0.0.1", PYTHONPATH=os.environ["PYTHONPATH"] + os.pathsep + str(ROOT))
    bot = await start(["--http", "--port", str(port)], env, cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(base + "/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            body, url = slack.command_body("11.22.33.44")
            start_at = time.monotonic()
            async with http.post(base + "/slack/events", data=body.encode(),
                                 headers=slack.signed_headers(body)) as resp:
                assert resp.status == 200
                assert (await resp.json())["text"] == ("11.22.33.44 is listed on 2 of 30 lists: "
                                                       "SpamCop, Spamhaus ZEN")
            print(f"http mode: answered in the response after {time.monotonic() - start_at:.3f} s")
            async with http.post(base + "/slack/events", data=body.encode(),
                                 headers=slack.signed_headers(body, secret="wrong")) as resp:
                assert resp.status == 401
        assert slack.posts_to(url) == []
    finally:
        code, output = await bot.stop()
    assert code == 0, output
    assert SIGNING_SECRET not in output and BOT_TOKEN not in output


@pytest.mark.parametrize("env, says", [
    ({"SLACK_BOT_TOKEN": "xoxb-1-not-a-valid-token", "SLACK_APP_TOKEN": APP_TOKEN},
     "Slack rejected SLACK_BOT_TOKEN (invalid_auth)"),
    ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_APP_TOKEN is not set"),
    ({"SLACK_BOT_TOKEN": APP_TOKEN, "SLACK_APP_TOKEN": BOT_TOKEN},
     "SLACK_BOT_TOKEN does not look like a bot token"),
    ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-1-wrong"},
     "Slack rejected SLACK_APP_TOKEN (invalid_auth)"),
])
async def test_a_missing_or_wrong_token_is_one_clear_line(
        slack: SlackStandIn, cwd: Path, demo_server: LocalBlocklistServer,
        env: dict[str, str], says: str) -> None:
    bot = await start([], bot_env(SLACK_API_URL=slack.api_url, BLCHECK_NAMESERVERS=demo_server.address,
                                  PYTHONPATH=os.environ["PYTHONPATH"] + os.pathsep + str(ROOT), **env),
                      cwd)
    code, output = await bot.exited()
    assert code == 2
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], output
    assert "Traceback" not in output
    for value in env.values():
        assert value not in output  # never echo a token, even a wrong one


async def test_http_mode_without_signing_secret_says_so(cwd: Path) -> None:
    bot = await start(["--http"], bot_env(SLACK_BOT_TOKEN=BOT_TOKEN, PYTHONPATH=os.environ["PYTHONPATH"]
                                          + os.pathsep + str(ROOT)), cwd)
    code, output = await bot.exited()
    assert code == 2 and "SLACK_SIGNING_SECRET is not set" in output


async def test_dotenv_file_is_read(slack: SlackStandIn, cwd: Path,
                                   demo_server: LocalBlocklistServer) -> None:
    (cwd / ".env").write_text(f"SLACK_BOT_TOKEN={BOT_TOKEN}\nSLACK_APP_TOKEN={APP_TOKEN}\n"
                              f"SLACK_API_URL={slack.api_url}\n"
                              f"BLCHECK_NAMESERVERS={demo_server.address}\n")
    # The nameserver from .env is used by the engine too (the test guard fails the test if any
    # query went to the system resolver instead).
    bot = await start([], bot_env(PYTHONPATH=os.environ["PYTHONPATH"] + os.pathsep + str(ROOT)), cwd)
    try:
        await asyncio.wait_for(slack.ws_connected.wait(), 20)
        payload, _ = slack.command_payload("11.22.33.44")
        ack = await slack.wait_ack(await slack.push("slash_commands", payload))
        assert "listed on 2 of 30" in ack["payload"]["text"]  # the demo server named in .env
    finally:
        code, output = await bot.stop()
    assert code == 0, output


async def console_output(cwd: Path, typed: str, **env: str) -> str:
    bot = await start([], bot_env(PYTHONPATH=os.environ["PYTHONPATH"] + os.pathsep + str(ROOT), **env),
                      cwd, stdin=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(bot.proc.communicate(typed.encode()), 60)
    assert bot.proc.returncode == 0, out.decode()
    return out.decode()


async def test_console_without_credentials_answers_in_the_terminal(cwd: Path) -> None:
    output = await console_output(cwd, "/blcheck 11.22.33.0/30\n/blcheck 10.1.2.3\n"
                                       "/blcheck help\nis 12.0.0.9 ok?\n")
    assert "no Slack tokens are set" in output
    # The first-run example, then each typed command, answered by the same listeners.
    assert "11.22.33.44 is listed on 2 of 30 lists" in output
    assert "11.22.33.0/30: 4 of 4 addresses listed" in output
    assert "10.1.2.3 is a private address; blocklists only list public ones." in output
    assert "/blcheck 198.51.100.0/28" in output  # help
    assert "12.0.0.9 is clean on all 30 lists" in output  # a direct message


async def test_console_speaks_the_terminals_language(cwd: Path) -> None:
    from bot.i18n import messages

    output = await console_output(cwd, "/blcheck 12.0.0.9\n", LANG="ja_JP.UTF-8")
    assert messages("ja").n("verdict.clean", 30, target="12.0.0.9") in output
    assert "no Slack locale" not in output  # the console answers users.info itself


async def test_console_uses_the_configured_resolver(cwd: Path,
                                                    demo_server: LocalBlocklistServer) -> None:
    output = await console_output(cwd, "/blcheck 11.22.33.44\n", BLCHECK_NAMESERVERS=demo_server.address)
    assert "demo blocklist server" not in output
    assert "11.22.33.44 is listed on 2 of 30 lists" in output
