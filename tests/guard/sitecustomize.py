"""Loaded by every Python subprocess the tests start (PYTHONPATH): the same no-traffic-off-
loopback guard as tests/conftest.py, writing violations to $BLCHECK_TEST_GUARD_LOG."""

import ipaddress
import os
import socket
import sys


def _is_local(host: object) -> bool:
    if not isinstance(host, str) or host in ("localhost", ""):
        return True
    try:
        addr = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return addr.is_loopback or addr.is_unspecified


def _audit(event: str, args: tuple) -> None:  # type: ignore[type-arg]
    host = None
    if event in ("socket.connect", "socket.sendto") and len(args) >= 2:
        sock, address = args[0], args[1]
        if not (isinstance(sock, socket.socket)
                and sock.family in (socket.AF_INET, socket.AF_INET6)):
            return
        host = address[0] if isinstance(address, tuple) else address
    elif event == "socket.getaddrinfo" and args and args[0] is not None:
        host = args[0]
    else:
        return
    if not _is_local(host):
        log = os.environ.get("BLCHECK_TEST_GUARD_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"pid {os.getpid()}: {event} to {host!r}\n")
        raise OSError(f"blocked by the test guard: {event} to {host!r} would leave this machine")


sys.addaudithook(_audit)
