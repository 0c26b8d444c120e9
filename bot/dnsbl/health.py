"""Is a list fit to be believed? RFC 5782 §5 test points, asked through the same DNS layer.

A list that answers its negative test point (127.0.0.1, INVALID) lists the world: a parked
domain or a rewriting resolver. A list that does not answer its positive test point (127.0.0.2,
TEST) is dead or silently refuses this resolver, so its "not listed" means nothing. Either way
its answers must never count as a listing.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

from bot.dnsbl import wire
from bot.dnsbl.catalog import Blocklist
from bot.dnsbl.decode import ALLOWED, ERROR, LISTED, decode
from bot.dnsbl.names import prefix_for
from bot.dnsbl.transport import DnsClient, Outcome
from bot.i18n import Text

OK = "ok"
UNTESTED = "untested"
LISTS_WORLD = "lists-world"
NOT_ANSWERING = "not-answering"
BLOCKED = "blocked"
UNREACHABLE = "unreachable"
WRONG_ANSWER = "wrong-answer"

_RANK = {OK: 0, UNTESTED: 0, UNREACHABLE: 1, WRONG_ANSWER: 2, NOT_ANSWERING: 3, BLOCKED: 4,
         LISTS_WORLD: 5}


@dataclass(frozen=True, slots=True)
class Health:
    list_id: str
    status: str
    detail: str = ""  # English, for logs, JSON and the database
    cause: str | None = None
    why: Text | None = None  # the same, untranslated, for the reader's language

    @classmethod
    def of(cls, list_id: str, status: str, why: Text, cause: str | None = None) -> Health:
        return cls(list_id, status, str(why), cause, why)

    @property
    def usable(self) -> bool:
        return self.status in (OK, UNTESTED)


def _failure_text(outcome: Outcome) -> str:  # DNS tokens (timeout, SERVFAIL): not translated
    if outcome.reply is None:
        return outcome.failure or "no answer"
    return {wire.RCODE_SERVFAIL: "SERVFAIL", wire.RCODE_REFUSED: "REFUSED"}.get(
        outcome.reply.rcode, f"rcode {outcome.reply.rcode}"
    )


def judge(bl: Blocklist, kind: str, positive: Outcome, negative: Outcome) -> Health:
    """The health of `bl` for one kind of query, from its two test-point answers."""
    for outcome in (negative, positive):
        if outcome.reply is None or outcome.reply.rcode not in (0, 3):
            return Health.of(bl.id, UNREACHABLE, Text("health.unreachable", error=_failure_text(outcome)))
    assert negative.reply is not None and positive.reply is not None
    if negative.reply.addresses:
        d = decode(bl, negative.reply.addresses)
        if d.state == ERROR and d.cause not in (None, "rewrite"):
            return Health(bl.id, BLOCKED, "; ".join(d.meanings), d.cause)
        codes = ", ".join(negative.reply.addresses)
        return Health.of(bl.id, LISTS_WORLD, Text("health.lists_world", codes=codes), "lists-world")
    if not positive.reply.addresses:
        return Health.of(bl.id, NOT_ANSWERING, Text("health.not_answering"), "not-answering")
    if bl.test_answer:
        if bl.test_answer in positive.reply.addresses:
            return Health(bl.id, OK)
        return Health.of(bl.id, WRONG_ANSWER, Text("health.wrong_answer", codes=", ".join(
            positive.reply.addresses), expected=bl.test_answer))
    d = decode(bl, positive.reply.addresses)
    if d.state in (LISTED, ALLOWED):
        return Health(bl.id, OK)
    if d.state == ERROR:
        return Health(bl.id, BLOCKED, "; ".join(d.meanings), d.cause)
    codes = ", ".join(positive.reply.addresses)
    return Health.of(bl.id, WRONG_ANSWER, Text("health.undocumented", codes=codes))


class HealthMonitor:
    """Probes lists once and remembers the verdict for `ttl` seconds (per process)."""

    def __init__(self, client: DnsClient, ttl: float | None = None) -> None:
        if ttl is None:
            raw = os.environ.get("BLCHECK_HEALTH_TTL", "").strip()
            ttl = float(raw) if raw.replace(".", "", 1).isdigit() else 600.0
        self.client = client
        self.ttl = ttl
        self._known: dict[str, tuple[float, Health]] = {}
        self._running: dict[str, asyncio.Task[Health]] = {}

    def cached(self, list_id: str) -> Health | None:
        hit = self._known.get(list_id)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        return None

    async def probe(self, bl: Blocklist) -> Health:
        if bl.skip_health:
            return Health(bl.id, UNTESTED, "the list publishes no test points")
        hit = self.cached(bl.id)
        if hit is not None:
            return hit
        task = self._running.get(bl.id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._probe(bl))
            self._running[bl.id] = task
        try:
            return await asyncio.shield(task)
        finally:
            if task.done():
                self._running.pop(bl.id, None)

    async def _probe(self, bl: Blocklist) -> Health:
        zone_wire = wire.encode_name(bl.query_zone)
        kinds = list(bl.test_points.items())
        questions = [
            wire.question(prefix_for(kind, point), zone_wire, wire.TYPE_A)
            for kind, points in kinds
            for point in points
        ]
        # Fresh: the verdict is remembered here for `ttl`; the DNS cache must not extend it.
        answers = await asyncio.gather(*(self.client.query(q, fresh=True) for q in questions))
        verdicts = [
            judge(bl, kind, answers[2 * i], answers[2 * i + 1]) for i, (kind, _) in enumerate(kinds)
        ]
        worst = max(verdicts, key=lambda h: _RANK[h.status])
        # A timeout is worth asking again soon, but not on every report of the same run.
        ttl = self.ttl if worst.status != UNREACHABLE else min(self.ttl, 30.0)
        self._known[bl.id] = (time.monotonic() + ttl, worst)
        return worst

    async def probe_all(self, lists: list[Blocklist]) -> dict[str, Health]:
        results = await asyncio.gather(*(self.probe(bl) for bl in lists))
        return {h.list_id: h for h in results}
