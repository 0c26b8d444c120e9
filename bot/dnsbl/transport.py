"""The one DNS layer: many blocklist queries over one connected UDP socket per nameserver.

Why not one resolver call per query: dnspython's resolver opens a socket and runs a coroutine per
query, which caps a Python process at ~2,000 queries/s (bench/engine.py measures it). Here every
query is a few bytes written to a shared socket, answers are matched by id and question, and one
timer sweeps timeouts for all of them. Each query gets one retry (sent to the next nameserver when
there are several) at half its timeout; an answer to either attempt counts. Answers are cached for
their TTL (bounded LRU) and identical questions in flight share one packet.

The socket is connected, so the kernel drops datagrams from anyone but the nameserver; ids are
random, and an answer must repeat our question exactly. Truncated answers are re-asked over TCP
with dnspython.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from bot.dnsbl import wire
from bot.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_PORT = 53
_TCP = 99  # `_Pending.sent` while a truncated answer is re-asked over TCP


@dataclass(frozen=True, slots=True)
class Nameserver:
    host: str
    port: int = DEFAULT_PORT

    @classmethod
    def parse(cls, text: str) -> Nameserver:
        """`HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address."""
        import ipaddress

        text = text.strip()
        host, port = text, DEFAULT_PORT
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            if rest.startswith(":"):
                port = _port(rest[1:], text)
        elif text.count(":") == 1:
            host, _, p = text.partition(":")
            port = _port(p, text)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ConfigError(
                f"nameserver {text!r} is not an IP address (use HOST:PORT, e.g. 127.0.0.1:5353)"
            ) from None
        return cls(host, port)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"nameserver {whole!r} has a bad port")
    return int(text)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A reply, or why there is none (`failure`: timeout, network error, malformed answer)."""

    reply: wire.Reply | None
    failure: str | None = None


Callback = Callable[[Outcome], None]


class _Pending:
    __slots__ = ("callbacks", "done", "ids", "question", "sent", "server")

    def __init__(self, question: bytes, callback: Callback) -> None:
        self.question = question
        self.callbacks: list[Callback] = [callback]
        self.ids: list[int] = []
        self.sent = 0
        self.server = 0
        self.done = False


class DnsClient:
    """Asynchronous blocklist queries with a bounded window; see the module docstring."""

    def __init__(
        self,
        nameservers: list[Nameserver],
        *,
        timeout: float = 2.0,
        max_in_flight: int = 256,
        cache_size: int = 50_000,
        negative_ttl: int = 60,
    ) -> None:
        if not nameservers:
            raise ConfigError("no nameserver configured")
        if timeout <= 0:
            raise ConfigError("timeout must be positive")
        self.nameservers = list(nameservers)
        self.timeout = timeout
        self.max_in_flight = max(1, min(max_in_flight, 30_000))
        self.negative_ttl = negative_ttl
        self._cache_size = cache_size
        self._cache: OrderedDict[bytes, tuple[float, wire.Reply]] = OrderedDict()
        self._by_id: dict[int, _Pending] = {}
        self._by_question: dict[bytes, _Pending] = {}
        self._due: deque[tuple[float, _Pending, int]] = deque()
        self._socks: list[socket.socket] = []
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweep_handle: asyncio.TimerHandle | None = None
        self._sweeping = False
        self._tcp_tasks: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.received = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> DnsClient:
        self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def open(self) -> None:
        if self._socks:
            return
        self._loop = asyncio.get_running_loop()
        for ns in self.nameservers:
            family = socket.AF_INET6 if ":" in ns.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
            sock.connect((ns.host, ns.port))
            index = len(self._socks)
            self._socks.append(sock)
            self._loop.add_reader(sock.fileno(), self._on_readable, index)

    async def aclose(self) -> None:
        for p in list(self._by_question.values()):
            self._finish(p, Outcome(None, "cancelled"))
        for task in list(self._tcp_tasks):
            task.cancel()
        if self._sweep_handle:
            self._sweep_handle.cancel()
            self._sweep_handle = None
        for sock in self._socks:
            if self._loop is not None:
                self._loop.remove_reader(sock.fileno())
            sock.close()
        self._socks.clear()
        self._due.clear()
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    # -- submitting --------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return len(self._by_question)

    async def wait_for_slot(self) -> None:
        """Wait until one more question may be sent (the bounded window)."""
        while len(self._by_question) >= self.max_in_flight:
            assert self._loop is not None
            fut: asyncio.Future[None] = self._loop.create_future()
            self._waiters.append(fut)
            await fut

    def submit(self, question: bytes, callback: Callback, fresh: bool = False) -> None:
        """Ask `question` (wire form); `callback` runs once, from the event loop, with the outcome.

        Cached answers call back before this returns, unless `fresh` (a watch run, a
        confirmation: this client's cache must not hide a change). Call `wait_for_slot()` first
        to respect the window; `submit` itself never blocks.
        """
        if not self._socks:
            self.open()
        cached = None if fresh else self._cache.get(question)
        if cached is not None:
            if cached[0] > time.monotonic():
                self._cache.move_to_end(question)
                callback(Outcome(cached[1]))
                return
            del self._cache[question]
        pending = self._by_question.get(question)
        if pending is not None:
            pending.callbacks.append(callback)
            return
        pending = _Pending(question, callback)
        self._by_question[question] = pending
        self._send(pending)

    async def query(self, question: bytes, fresh: bool = False) -> Outcome:
        """One question, awaited: the convenient form for a handful of lookups."""
        await self.wait_for_slot()
        assert self._loop is not None or not self._socks
        if not self._socks:
            self.open()
        assert self._loop is not None
        fut: asyncio.Future[Outcome] = self._loop.create_future()

        def done(outcome: Outcome) -> None:
            if not fut.done():
                fut.set_result(outcome)

        self.submit(question, done, fresh)
        return await fut

    def _send(self, p: _Pending) -> None:
        if not self._socks:
            self._finish(p, Outcome(None, "client closed"))
            return
        qid = random.getrandbits(16)
        while qid in self._by_id:
            qid = random.getrandbits(16)
        self._by_id[qid] = p
        p.ids.append(qid)
        p.server = p.sent % len(self._socks)
        p.sent += 1
        try:
            self._socks[p.server].send(wire.query(qid, p.question))
            self.sent += 1
        except (BlockingIOError, InterruptedError):
            pass  # send buffer full: the retry or the timeout takes over
        except OSError as exc:  # e.g. ICMP port unreachable reported on this connected socket
            log.debug("send to %s failed: %s", self.nameservers[p.server], exc)
        self._due.append((time.monotonic() + self.timeout / 2, p, p.sent))
        if self._sweep_handle is None and not self._sweeping:
            self._schedule_sweep()

    # -- receiving ---------------------------------------------------------------------------

    def _on_readable(self, index: int) -> None:
        sock = self._socks[index]
        for _ in range(512):
            try:
                data = sock.recv(4096)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                # Connection refused by the nameserver's port: the queries to it will retry
                # on another nameserver or time out, and end as `unknown`.
                log.debug("receive from %s failed: %s", self.nameservers[index], exc)
                break
            self.received += 1
            self._on_datagram(data)
        self._wake()

    def _on_datagram(self, data: bytes) -> None:
        head = wire.header(data)
        if head is None:
            return
        p = self._by_id.get(head[0])
        if p is None or p.done:
            return
        q = p.question
        if data[12 : 12 + len(q)].lower() != q.lower():
            return  # not the answer to our question: ignore, as a resolver does
        reply = wire.read_reply(data, q, self.negative_ttl)
        if reply is None:
            reply = self._parse_slow(data, q)
            if reply is None:
                self._finish(p, Outcome(None, "malformed answer"))
                return
        if reply.truncated:
            if p.sent != _TCP:  # a second truncated answer: TCP is already asking
                self._retry_over_tcp(p, self._server_of(head[0], p))
            return
        self._store(q, reply)
        self._finish(p, Outcome(reply))

    def _parse_slow(self, data: bytes, question: bytes) -> wire.Reply | None:
        """dnspython's full parser, for answers the lean reader leaves alone (CNAMEs, EDNS...)."""
        try:
            msg = dns.message.from_wire(data, ignore_trailing=True)
        except dns.exception.DNSException:
            return None
        return reply_from_message(msg, question, self.negative_ttl)

    def _server_of(self, qid: int, p: _Pending) -> int:
        """The nameserver the answer with `qid` came from (attempt n went to server n-1)."""
        attempt = p.ids.index(qid) if qid in p.ids else p.sent - 1
        return attempt % len(self.nameservers)

    def _retry_over_tcp(self, p: _Pending, server: int) -> None:
        ns = self.nameservers[server]
        qname, qtype = _decode_question(p.question)
        request = dns.message.make_query(qname, dns.rdatatype.RdataType.make(qtype))

        async def ask() -> None:
            try:
                remaining = max(0.1, self.timeout)
                msg = await dns.asyncquery.tcp(request, ns.host, timeout=remaining, port=ns.port)
                reply = reply_from_message(msg, p.question, self.negative_ttl)
                outcome = Outcome(reply) if reply else Outcome(None, "malformed answer")
            except (OSError, dns.exception.DNSException) as exc:
                outcome = Outcome(None, f"TCP retry failed: {exc.__class__.__name__}")
            if outcome.reply is not None:
                self._store(p.question, outcome.reply)
            self._finish(p, outcome)
            self._wake()

        p.sent = _TCP  # no sweep entry matches: the TCP query's own timeout ends it
        assert self._loop is not None
        task = self._loop.create_task(ask())
        self._tcp_tasks.add(task)
        task.add_done_callback(self._tcp_tasks.discard)

    def _store(self, question: bytes, reply: wire.Reply) -> None:
        if self._cache_size <= 0 or reply.ttl <= 0 or reply.rcode not in (0, 3):
            return
        self._cache[question] = (time.monotonic() + reply.ttl, reply)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _finish(self, p: _Pending, outcome: Outcome) -> None:
        if p.done:
            return
        p.done = True
        for qid in p.ids:
            self._by_id.pop(qid, None)
        self._by_question.pop(p.question, None)
        for cb in p.callbacks:
            try:
                cb(outcome)
            except Exception:  # a bug in one caller must not stop every other query
                log.exception("DNS callback failed")

    def _wake(self) -> None:
        while self._waiters and len(self._by_question) < self.max_in_flight:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)

    # -- timeouts ----------------------------------------------------------------------------

    def _schedule_sweep(self) -> None:
        assert self._loop is not None
        step = min(0.05, self.timeout / 20)
        self._sweep_handle = self._loop.call_later(step, self._sweep)

    def _sweep(self) -> None:
        self._sweep_handle = None
        self._sweeping = True
        try:
            now = time.monotonic()
            due = self._due
            while due and due[0][0] <= now:
                _, p, attempt = due.popleft()
                if p.done or attempt != p.sent:
                    continue
                if p.sent == 1:
                    self._send(p)  # the one retry, to the next nameserver if there is one
                else:
                    self._finish(p, Outcome(None, "timeout"))
        finally:
            self._sweeping = False
        self._wake()
        if self._due and self._sweep_handle is None and self._socks:
            self._schedule_sweep()


def _decode_question(question: bytes) -> tuple[dns.name.Name, int]:
    name, used = dns.name.from_wire(question, 0)
    qtype = int.from_bytes(question[used : used + 2], "big")
    return name, qtype


def reply_from_message(
    msg: dns.message.Message, question: bytes, negative_ttl: int
) -> wire.Reply | None:
    """A `wire.Reply` from a dnspython message (the general path: CNAME chains, TCP)."""
    qname, qtype = _decode_question(question)
    if len(msg.question) != 1 or msg.question[0].name != qname:
        return None
    # Follow a CNAME chain (in whatever order the rrsets came), then read the final owner.
    target = qname
    ttls: list[int] = []
    for _ in range(8):
        cname = msg.get_rrset(msg.answer, target, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if cname is None:
            break
        ttls.append(cname.ttl)
        target = cname[0].target
    addresses: list[str] = []
    texts: list[str] = []
    rdtype = dns.rdatatype.A if qtype == wire.TYPE_A else dns.rdatatype.TXT
    final = msg.get_rrset(msg.answer, target, dns.rdataclass.IN, rdtype)
    if final is not None:
        ttls.append(final.ttl)
        for rd in final:
            if rdtype == dns.rdatatype.A:
                addresses.append(rd.address)
            else:
                texts.append(b"".join(rd.strings).decode("utf-8", "replace"))
    ttl = min(ttls) if ttls else negative_ttl
    if not ttls:
        for rrset in msg.authority:
            if rrset.rdtype == dns.rdatatype.SOA:
                ttl = min(rrset.ttl, rrset[0].minimum)
    return wire.Reply(msg.rcode(), tuple(addresses), tuple(texts), ttl, bool(msg.flags & 0x0200))
