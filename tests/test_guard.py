"""The suite's own guard: a DNS query to anything but loopback fails the run."""

import socket

import dns.message
import dns.query
import pytest

from tests.conftest import VIOLATIONS


def test_dns_query_off_loopback_is_blocked(guard_selftest: list[str]) -> None:
    query = dns.message.make_query("2.0.0.127.zen.spamhaus.org", "A")
    with pytest.raises(OSError, match="test guard"):
        dns.query.udp(query, "192.0.2.53", timeout=0.5)


def test_guard_records_the_attempt(guard_selftest: list[str]) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with pytest.raises(OSError, match="test guard"):
        sock.sendto(b"x", ("198.51.100.1", 53))
    sock.close()
    assert any("198.51.100.1" in v for v in VIOLATIONS)


def test_name_lookup_through_system_resolver_is_blocked(guard_selftest: list[str]) -> None:
    with pytest.raises(OSError, match="test guard"):
        socket.getaddrinfo("zen.spamhaus.org", 53)


def test_loopback_is_allowed() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(b"x", ("127.0.0.1", 9))
    sock.close()


def test_subprocesses_are_guarded_too(tmp_path: object) -> None:
    import os
    import subprocess
    import sys

    code = "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('192.0.2.1', 53))"
    log = os.environ["BLCHECK_TEST_GUARD_LOG"]
    env = dict(os.environ, BLCHECK_TEST_GUARD_LOG=f"{log}.selftest")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode != 0 and "blocked by the test guard" in out.stderr
    with open(f"{log}.selftest") as f:
        assert "192.0.2.1" in f.read()
    os.unlink(f"{log}.selftest")
