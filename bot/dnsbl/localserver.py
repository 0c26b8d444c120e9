"""A real blocklist DNS server on loopback: rbldnsd serving zones we generate.

The tests, the benchmark and `blcheck demo-server` all need a DNS server that behaves exactly like
the ones list operators run, without sending a packet off this machine. rbldnsd is that server;
this module writes its data files and runs it on a loopback port.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import BlcheckError

#: rbldnsd's default SOA for generated zones: a 60 s negative TTL keeps tests fast to re-run.
DEFAULT_SOA = "$SOA 60 ns.blcheck.test. hostmaster.blcheck.test. 1 60 60 600 60"


class LocalServerError(BlcheckError):
    """rbldnsd is missing or did not start."""


@dataclass(frozen=True)
class Entry:
    """One listing: a key in the dataset's own syntax, its A value and optional TXT."""

    key: str
    value: str = "127.0.0.2"
    txt: str | None = None

    def line(self) -> str:
        txt = "" if self.txt is None else ":" + self.txt.replace("\n", " ")
        return f"{self.key} :{self.value}{txt}"


@dataclass
class Zone:
    """A zone served by rbldnsd. Several datasets for one name make one zone (as ZEN does)."""

    name: str
    dataset: str = "ip4set"
    entries: list[Entry] = field(default_factory=list)
    ttl: int = 300
    records: list[str] = field(default_factory=list)  # verbatim lines (generic: "mail A 1.2.3.4")

    def render(self) -> str:
        lines = [DEFAULT_SOA, f"$TTL {self.ttl}"]
        lines.extend(e.line() for e in self.entries)
        lines.extend(self.records)
        return "\n".join(lines) + "\n"


def rbldnsd_path() -> str:
    """Where rbldnsd lives; Debian installs it to /usr/sbin, which may not be on PATH."""
    found = shutil.which("rbldnsd") or next(
        (p for p in ("/usr/sbin/rbldnsd", "/usr/local/sbin/rbldnsd") if Path(p).exists()), None
    )
    if not found:
        raise LocalServerError("rbldnsd is not installed (Debian/Ubuntu: apt-get install rbldnsd)")
    return found


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nobody listens on right now (rbldnsd needs a fixed number on its command line)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class LocalBlocklistServer:
    """rbldnsd on a loopback port, serving `zones`; zones can be rewritten while it runs."""

    def __init__(self, zones: Sequence[Zone], host: str = "127.0.0.1") -> None:
        if not host.startswith("127.") and host != "::1":
            raise LocalServerError("the local blocklist server only binds to loopback")
        self.host = host
        self.port = 0
        self._zones = list(zones)
        self._dir = Path(tempfile.mkdtemp(prefix="blcheck-rbldnsd-"))
        # Run as root, rbldnsd drops to its own user, which must be able to read the zone files.
        self._dir.chmod(0o755)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """`HOST:PORT` as `--nameserver` takes it."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def _file(self, index: int) -> Path:
        return self._dir / f"zone{index}.txt"

    def _write(self) -> list[str]:
        specs = []
        # rbldnsd reloads a file whose mtime changed; two writes in one second must still differ.
        self._mtime = max(getattr(self, "_mtime", 0.0) + 1.0, time.time())
        for i, zone in enumerate(self._zones):
            path = self._file(i)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(zone.render(), encoding="utf-8")
            tmp.chmod(0o644)
            os.utime(tmp, (self._mtime, self._mtime))
            tmp.replace(path)
            specs.append(f"{zone.name}:{zone.dataset}:{path.name}")
        return specs

    def start(self) -> LocalBlocklistServer:
        exe = rbldnsd_path()
        specs = self._write()
        last_error = ""
        for _ in range(5):
            self.port = free_udp_port(self.host)
            cmd = [exe, "-n", "-e", "-c", "1", "-t", "300", "-w", str(self._dir)]
            cmd += ["-b", f"{self.host}/{self.port}", *specs]
            self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self._wait_ready():
                return self
            self._proc.kill()
            _, err = self._proc.communicate()
            last_error = err.decode(errors="replace").strip()
        raise LocalServerError(f"rbldnsd did not start: {last_error}")

    def _wait_ready(self, timeout: float = 5.0) -> bool:
        """Ready once the zones answer: a SOA query for the first zone gets a reply."""
        import dns.exception
        import dns.message
        import dns.query
        import dns.rcode

        probe = dns.message.make_query(self._zones[0].name, "SOA")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            with contextlib.suppress(OSError, dns.exception.Timeout):
                answer = dns.query.udp(probe, self.host, port=self.port, timeout=0.2)
                if answer.rcode() != dns.rcode.SERVFAIL:
                    return True
            time.sleep(0.02)
        return False

    def replace_zone(self, zone: Zone) -> None:
        """Swap a zone's data; rbldnsd notices within its 1 s check interval."""
        for i, current in enumerate(self._zones):
            if current.name == zone.name and current.dataset == zone.dataset:
                self._zones[i] = zone
        self._write()

    def replace_all(self, zones: list[Zone]) -> None:
        """Swap every zone's data at once (the same zones, new entries)."""
        self._zones = list(zones)
        self._write()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc is not None and self._proc.stderr is not None:
            self._proc.stderr.close()
        self._proc = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> LocalBlocklistServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def test_points(kind: str, positive: str = "127.0.0.2", txt: str | None = None) -> list[Entry]:
    """The RFC 5782 section 5 positive test entry for a zone of `kind`."""
    key = {"ip4": "127.0.0.2", "ip6": "::ffff:7f00:2", "domain": "test"}[kind]
    return [Entry(key, positive, txt)]


def dataset_for(kind: str) -> str:
    return {"ip4": "ip4set", "ip6": "ip6trie", "domain": "dnset"}[kind]


class FaultyProxy:
    """A UDP front for a DNS server that black-holes some zones and delays others.

    Real lists die or slow down one at a time while the resolver keeps answering for the rest;
    one rbldnsd cannot do that, so tests and the benchmark put this in front of it (loopback
    only, in a thread of its own so the client's event loop is not involved).
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        drop: Iterable[str] = (),
        delay: dict[str, float] | None = None,
    ) -> None:
        if not upstream[0].startswith("127."):
            raise LocalServerError("the proxy only forwards to loopback")
        self.upstream = upstream
        self.drop = tuple(z.lower().rstrip(".") for z in drop)
        self.delay = {z.lower().rstrip("."): s for z, s in (delay or {}).items()}
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._up.connect(upstream)
        self.port = int(self._sock.getsockname()[1])
        self._clients: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="faulty-proxy", daemon=True)
        self.dropped = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _zone_of(self, data: bytes) -> str:
        import dns.name

        try:
            name, _ = dns.name.from_wire(data, 12)
        except Exception:
            return ""
        return name.to_text(omit_final_dot=True).lower()

    def _matches(self, qname: str, zones: Iterable[str]) -> str | None:
        return next((z for z in zones if qname == z or qname.endswith("." + z)), None)

    def _run(self) -> None:
        import heapq
        import select

        pending: list[tuple[float, int, bytes]] = []
        seq = 0
        while not self._stop.is_set():
            wait = 0.05 if not pending else max(0.0, min(0.05, pending[0][0] - time.monotonic()))
            ready, _, _ = select.select([self._sock, self._up], [], [], wait)
            now = time.monotonic()
            while pending and pending[0][0] <= now:
                _, _, data = heapq.heappop(pending)
                self._up.send(data)
            for sock in ready:
                try:
                    data, addr = sock.recvfrom(65535)
                except OSError:
                    continue
                if len(data) < 12:
                    continue
                qid = int.from_bytes(data[:2], "big")
                if sock is self._up:
                    client = self._clients.pop(qid, None)
                    if client:
                        self._sock.sendto(data, client)
                    continue
                qname = self._zone_of(data)
                if self._matches(qname, self.drop):
                    self.dropped += 1
                    continue
                self._clients[qid] = addr
                zone = self._matches(qname, self.delay)
                if zone:
                    seq += 1
                    heapq.heappush(pending, (now + self.delay[zone], seq, data))
                else:
                    self._up.send(data)

    def start(self) -> FaultyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()
        self._up.close()

    def __enter__(self) -> FaultyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
