"""Watches, listings, incidents, history and the outbox, on SQLAlchemy's async engine.

Work is claimed with leases, so several bot processes can share one database: a due watch or a
pending message is taken by one process at a time (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite
serialises writers), and a process that dies leaves a lease that simply expires. A state change
and the messages announcing it are written in one transaction; a message is marked sent only
with the timestamp Slack gave it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, Table, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.dnsbl.budget import Budget
from bot.watch import schema
from bot.watch.db import is_postgres
from bot.watch.diff import Change, Key, Seen

w, li, inc, ev, ob = schema.watches, schema.listings, schema.incidents, schema.events, schema.outbox
sl, qb = schema.watch_slices, schema.query_budget


@dataclass(frozen=True)
class Watch:
    id: int
    team_id: str
    channel_id: str
    target: str
    interval_s: int
    next_check_at: float
    muted_until: float | None
    last_checked_at: float | None
    baseline_done: bool
    created_by: str | None = None
    created_at: float = 0.0
    checks: int = 0  # completed checks: a run split over slices and processes counts once

    @classmethod
    def of(cls, row: Row[Any]) -> Watch:
        m = row._mapping
        return cls(m["id"], m["team_id"], m["channel_id"], m["target"], m["interval_s"],
                   m["next_check_at"], m["muted_until"], m["last_checked_at"], bool(m["baseline_done"]),
                   m["created_by"], m["created_at"], m["checks"])

    def muted(self, now: float) -> bool:
        return self.muted_until is not None and self.muted_until > now


@dataclass(frozen=True)
class Listing:
    address: str
    list_id: str
    codes: str
    reason: str | None
    since: float


@dataclass(frozen=True)
class Slice:
    """Part of one run of a big range's watch: addresses first .. first + size - 1."""

    id: int
    watch_id: int
    first: int
    size: int


@dataclass
class SliceResults:
    listed: dict[Key, Seen]
    gone: set[Key]
    answered: bool


@dataclass(frozen=True)
class Outgoing:
    id: int
    team_id: str
    channel_id: str
    kind: str
    payload: dict[str, Any]
    incident_id: int | None
    attempts: int
    created_at: float


class Announcer(Protocol):
    """Renders the messages a change produces (so the store stays free of Slack formats)."""

    def baseline(self, watch: Watch, current: list[Listing]) -> dict[str, Any]: ...
    def alert(self, watch: Watch, current: list[Listing], new: list[Listing]) -> dict[str, Any]: ...
    def added(self, watch: Watch, new: list[Listing]) -> dict[str, Any]: ...
    def removed(self, watch: Watch, gone: list[Listing], remaining: int) -> dict[str, Any]: ...
    def all_clear(self, watch: Watch, gone: list[Listing]) -> dict[str, Any]: ...
    def state(self, watch: Watch, current: list[Listing], open_: bool) -> dict[str, Any]: ...
    def list_health(self, list_id: str, usable: bool, detail: str | None) -> dict[str, Any]: ...
    def budget(self, budget: Budget, used: int) -> dict[str, Any]: ...


class Store:
    def __init__(self, engine: AsyncEngine, owner: str) -> None:
        self.engine = engine
        self.owner = owner  # this process, for leases

    # -- watches -------------------------------------------------------------------------------

    async def add_watch(self, team: str, channel: str, target: str, user: str | None,
                        interval_s: int, now: float) -> tuple[Watch, bool]:
        """The watch (new, or the one already there) and whether it was created now."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(w).values(
                    team_id=team, channel_id=channel, target=target, created_by=user, created_at=now,
                    interval_s=interval_s, next_check_at=now, baseline_done=False))
                created = True
        except IntegrityError:
            created = False
        watch = await self.find_watch(team, channel, target)
        assert watch is not None
        return watch, created

    async def find_watch(self, team: str, channel: str, target: str) -> Watch | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(w).where(
                w.c.team_id == team, w.c.channel_id == channel, w.c.target == target))).first()
        return Watch.of(row) if row else None

    async def remove_watch(self, team: str, channel: str, target: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(w).where(
                w.c.team_id == team, w.c.channel_id == channel, w.c.target == target))
        return bool(result.rowcount)

    async def watches(self, team: str, channel: str | None = None) -> list[Watch]:
        query = select(w).where(w.c.team_id == team).order_by(w.c.channel_id, w.c.target)
        if channel is not None:
            query = query.where(w.c.channel_id == channel)
        async with self.engine.connect() as conn:
            return [Watch.of(r) for r in (await conn.execute(query)).all()]

    async def set_mute(self, team: str, channel: str, target: str, until: float | None) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(update(w).where(
                w.c.team_id == team, w.c.channel_id == channel, w.c.target == target
            ).values(muted_until=until))
        return bool(result.rowcount)

    async def check_now(self, watch_id: int, now: float) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(w).where(w.c.id == watch_id).values(next_check_at=now))

    async def count_watches(self, team: str) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(w).where(
                w.c.team_id == team))).scalar() or 0)

    async def listings(self, watch_id: int) -> list[Listing]:
        async with self.engine.connect() as conn:
            return await self._listings(conn, watch_id)

    @staticmethod
    async def _listings(conn: AsyncConnection, watch_id: int) -> list[Listing]:
        rows = (await conn.execute(select(li).where(li.c.watch_id == watch_id)
                                   .order_by(li.c.address, li.c.list_id))).all()
        return [Listing(r.address, r.list_id, r.codes, r.reason, r.since) for r in rows]

    async def history(self, watch_id: int, since: float = 0.0) -> list[Row[Any]]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(select(ev).where(ev.c.watch_id == watch_id, ev.c.at >= since)
                                            .order_by(ev.c.at, ev.c.id))).all())

    # -- claiming due watches --------------------------------------------------------------------

    async def claim_due(self, now: float, limit: int, lease_s: float) -> list[Watch]:
        """Due watches, leased to this process until now + lease_s."""
        free = or_(w.c.lease_until.is_(None), w.c.lease_until < now)
        pick = select(w.c.id).where(w.c.next_check_at <= now, free).order_by(w.c.next_check_at).limit(limit)
        return [Watch.of(r) for r in await self._lease(w, pick, free, now + lease_s)]

    async def _lease(self, table: Table, pick: Select[Any], free: ColumnElement[bool],
                     until: float) -> Sequence[Row[Any]]:
        """Lease the rows `pick` selects to this process. The UPDATE re-checks `free`, so two
        processes never hold one row; PostgreSQL also skips rows another claim has locked."""
        async with self.engine.begin() as conn:
            if is_postgres(self.engine):
                pick = pick.with_for_update(skip_locked=True)
            ids = [r.id for r in (await conn.execute(pick)).all()]
            if not ids:
                return []
            return (await conn.execute(
                update(table).where(table.c.id.in_(ids), free)
                .values(lease_owner=self.owner, lease_until=until).returning(*table.c))).all()

    async def release(self, watch: Watch, next_at: float) -> None:
        async with self.engine.begin() as conn:
            owned = await conn.execute(update(w).where(w.c.id == watch.id, w.c.lease_owner == self.owner)
                                       .values(lease_owner=None, lease_until=None, next_check_at=next_at))
            if owned.rowcount:
                await conn.execute(delete(sl).where(sl.c.watch_id == watch.id))

    # -- big ranges, slice by slice ---------------------------------------------------------------

    async def open_slices(self, watch: Watch, spans: Sequence[tuple[int, int]], run_until: float) -> bool:
        """Start a run of a big range: one claimable row per span; the watch stays leased (to
        this process) until the run ends, so no second run starts meanwhile."""
        async with self.engine.begin() as conn:
            owned = await conn.execute(update(w).where(w.c.id == watch.id, w.c.lease_owner == self.owner)
                                       .values(lease_until=run_until))
            if not owned.rowcount:
                return False
            await conn.execute(delete(sl).where(sl.c.watch_id == watch.id))  # a run that never ended
            await conn.execute(insert(sl), [
                {"watch_id": watch.id, "first": first, "size": size, "status": "pending", "answered": False}
                for first, size in spans])
        return True

    async def claim_slices(self, now: float, limit: int, lease_s: float) -> list[Slice]:
        free = or_(sl.c.lease_until.is_(None), sl.c.lease_until < now)
        pick = select(sl.c.id).where(sl.c.status == "pending", free).order_by(sl.c.id).limit(limit)
        rows = await self._lease(sl, pick, free, now + lease_s)
        return [Slice(r.id, r.watch_id, r.first, r.size) for r in rows]

    async def release_slice(self, part: Slice) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(sl).where(sl.c.id == part.id, sl.c.lease_owner == self.owner)
                               .values(lease_owner=None, lease_until=None))

    async def finish_slice(self, part: Slice, listed: Mapping[Key, Seen], gone: Sequence[Key],
                           answered: bool, now: float, lease_s: float) -> Watch | None:
        """Store one slice's answers. The process that finishes a run's last slice gets the
        watch (leased to it) back, to merge the slices and record the change; everyone else
        gets None. The watch row is locked first, so two last slices cannot both miss it."""
        async with self.engine.begin() as conn:
            lock = select(w.c.id).where(w.c.id == part.watch_id)
            if is_postgres(self.engine):
                lock = lock.with_for_update()
            if (await conn.execute(lock)).first() is None:
                return None  # the watch was removed meanwhile
            stored = await conn.execute(update(sl).where(
                sl.c.id == part.id, sl.c.lease_owner == self.owner, sl.c.status == "pending").values(
                status="done", lease_owner=None, lease_until=None, answered=answered,
                listed=json.dumps([[a, lid, s.codes, s.reason, s.meaning, s.list_name]
                                   for (a, lid), s in sorted(listed.items())]),
                gone=json.dumps(sorted(gone))))
            if not stored.rowcount:
                return None  # our lease expired and another process redid this slice
            waiting = (await conn.execute(select(func.count()).select_from(sl).where(
                sl.c.watch_id == part.watch_id, sl.c.status == "pending"))).scalar()
            if waiting:
                return None
            row = (await conn.execute(update(w).where(w.c.id == part.watch_id).values(
                lease_owner=self.owner, lease_until=now + lease_s).returning(*w.c))).first()
        return Watch.of(row) if row else None

    async def slice_results(self, watch_id: int) -> SliceResults:
        merged = SliceResults({}, set(), False)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(sl.c.listed, sl.c.gone, sl.c.answered).where(
                sl.c.watch_id == watch_id, sl.c.status == "done"))).all()
        for listed, gone, answered in rows:
            for a, lid, codes, reason, meaning, name in json.loads(listed or "[]"):
                merged.listed[(a, lid)] = Seen(codes, reason, meaning, name)
            merged.gone.update((a, lid) for a, lid in json.loads(gone or "[]"))
            merged.answered = merged.answered or bool(answered)
        return merged

    async def watch(self, watch_id: int) -> Watch | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(w).where(w.c.id == watch_id))).first()
        return Watch.of(row) if row else None

    # -- recording a check ------------------------------------------------------------------------

    async def record(self, watch: Watch, now: float, change: Change, next_at: float,
                     announcer: Announcer) -> bool:
        """Apply one run's change and queue its messages, atomically; False if the lease was lost
        (another process took the watch over: it will do this work)."""
        async with self.engine.begin() as conn:
            owned = (await conn.execute(
                update(w).where(w.c.id == watch.id, w.c.lease_owner == self.owner)
                .values(lease_owner=None, lease_until=None, next_check_at=next_at, last_checked_at=now,
                        baseline_done=True, checks=w.c.checks + 1))).rowcount
            if not owned:
                return False
            await conn.execute(delete(sl).where(sl.c.watch_id == watch.id))
            before = {(x.address, x.list_id): x for x in await self._listings(conn, watch.id)}
            new = [Listing(a, lid, s.codes, s.reason, now) for (a, lid), s in sorted(change.new.items())]
            gone = [before[k] for k in sorted(change.gone) if k in before]
            for x in new:
                await conn.execute(insert(li).values(watch_id=watch.id, address=x.address, list_id=x.list_id,
                                                     codes=x.codes, reason=x.reason, since=now))
                await conn.execute(insert(ev).values(watch_id=watch.id, address=x.address, list_id=x.list_id,
                                                     kind="listed", at=now, codes=x.codes, reason=x.reason))
            for x in gone:
                await conn.execute(delete(li).where(li.c.watch_id == watch.id, li.c.address == x.address,
                                                    li.c.list_id == x.list_id))
                await conn.execute(insert(ev).values(watch_id=watch.id, address=x.address, list_id=x.list_id,
                                                     kind="delisted", at=now, codes=x.codes))
            current = await self._listings(conn, watch.id)
            incident = (await conn.execute(select(inc).where(inc.c.watch_id == watch.id,
                                                             inc.c.closed_at.is_(None)))).first()
            # Muted: changes are recorded and an open incident's message is still edited (and
            # closed at the all-clear), but nothing new is posted and no incident is opened; the
            # first run after the mute opens one for whatever is still listed.
            quiet = watch.muted(now)

            async def queue(kind: str, payload: dict[str, Any], incident_id: int | None) -> None:
                if quiet and kind != "update":
                    return
                await conn.execute(insert(ob).values(
                    team_id=watch.team_id, channel_id=watch.channel_id, watch_id=watch.id,
                    incident_id=incident_id, kind=kind, payload=json.dumps(payload), status="pending",
                    attempts=0, next_attempt_at=now, created_at=now))

            if not watch.baseline_done:
                incident_id = None
                if current and not quiet:
                    incident_id = await self._open_incident(conn, watch.id, now)
                await queue("root" if current else "notice", announcer.baseline(watch, current), incident_id)
                return True
            if current and incident is None:
                if quiet:
                    return True
                # New listings, or listings a mute kept quiet: one root for all of them.
                incident_id = await self._open_incident(conn, watch.id, now)
                await queue("root", announcer.alert(watch, current, new or current), incident_id)
                return True
            if incident is None:
                return True
            if new:
                await queue("thread", announcer.added(watch, new), incident.id)
            if gone and current:
                await queue("thread", announcer.removed(watch, gone, len(current)), incident.id)
            if gone and not current:
                await queue("thread", announcer.all_clear(watch, gone), incident.id)
                await conn.execute(update(inc).where(inc.c.id == incident.id).values(closed_at=now))
            if new or gone:
                await queue("update", announcer.state(watch, current, bool(current)), incident.id)
        return True

    @staticmethod
    async def _open_incident(conn: AsyncConnection, watch_id: int, now: float) -> int:
        result = await conn.execute(insert(inc).values(watch_id=watch_id, opened_at=now).returning(inc.c.id))
        return int(result.scalar_one())

    async def record_health(self, health: Mapping[str, tuple[bool, str, str | None]], now: float,
                            announcer: Announcer) -> list[str]:
        """Lists whose usability changed; each change queues one notice per watching channel.
        The conditional UPDATE makes the announcement happen once across processes."""
        hl = schema.list_health
        changed: list[str] = []
        async with self.engine.begin() as conn:
            channels = (await conn.execute(select(w.c.team_id, w.c.channel_id).distinct())).all()
            for list_id, (usable, status, detail) in sorted(health.items()):
                insert_fn = pg_insert if is_postgres(self.engine) else sqlite_insert
                first = await conn.execute(insert_fn(hl).values(
                    list_id=list_id, usable=usable, status=status, detail=detail, since=now
                ).on_conflict_do_nothing(index_elements=["list_id"]))
                if first.rowcount:
                    if usable:
                        continue  # first seen healthy: nothing to say
                else:
                    flipped = await conn.execute(
                        update(hl).where(hl.c.list_id == list_id, hl.c.usable != usable)
                        .values(usable=usable, status=status, detail=detail, since=now))
                    if not flipped.rowcount:
                        continue
                changed.append(list_id)
                payload = json.dumps(announcer.list_health(list_id, usable, detail))
                for team, channel in channels:
                    await conn.execute(insert(ob).values(
                        team_id=team, channel_id=channel, kind="notice", payload=payload, status="pending",
                        attempts=0, next_attempt_at=now, created_at=now))
        return changed

    async def spend(self, day: str, spent: Mapping[str, int]) -> dict[str, int]:
        """Add this process's queries to the shared per-budget totals; every total for `day`."""
        async with self.engine.begin() as conn:
            insert_fn = pg_insert if is_postgres(self.engine) else sqlite_insert
            for grp, n in sorted(spent.items()):
                stmt = insert_fn(qb).values(grp=grp, day=day, used=n, warned=0)
                await conn.execute(stmt.on_conflict_do_update(
                    index_elements=["grp", "day"], set_={"used": qb.c.used + stmt.excluded.used}))
            rows = (await conn.execute(select(qb.c.grp, qb.c.used).where(qb.c.day == day))).all()
        return {grp: int(used) for grp, used in rows}

    async def announce_budget(self, grp: str, day: str, level: int, payload: dict[str, Any],
                              now: float) -> bool:
        """Queue one warning per watching channel the first time `grp` reaches `level` (percent)
        on `day`, across processes; False when it was already announced."""
        async with self.engine.begin() as conn:
            raised = await conn.execute(update(qb).where(
                qb.c.grp == grp, qb.c.day == day, qb.c.warned < level).values(warned=level))
            if not raised.rowcount:
                return False
            channels = (await conn.execute(select(w.c.team_id, w.c.channel_id).distinct())).all()
            for team, channel in channels:
                await conn.execute(insert(ob).values(
                    team_id=team, channel_id=channel, kind="notice", payload=json.dumps(payload),
                    status="pending", attempts=0, next_attempt_at=now, created_at=now))
        return True

    async def queue_notice(self, team: str, channel: str, payload: dict[str, Any], now: float) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(ob).values(
                team_id=team, channel_id=channel, kind="notice", payload=json.dumps(payload),
                status="pending", attempts=0, next_attempt_at=now, created_at=now))

    # -- the outbox -------------------------------------------------------------------------------

    async def claim_outbox(self, now: float, limit: int, lease_s: float) -> list[Outgoing]:
        """Pending messages in the order they were written, leased to this process."""
        free = or_(ob.c.lease_until.is_(None), ob.c.lease_until < now)
        older = ob.alias("older")
        # An incident's messages go strictly in order: none is taken while an older one waits.
        in_order = or_(ob.c.incident_id.is_(None), ~select(older.c.id).where(
            older.c.incident_id == ob.c.incident_id, older.c.status == "pending", older.c.id < ob.c.id
        ).exists())
        pick = (select(ob.c.id).where(ob.c.status == "pending", ob.c.next_attempt_at <= now, free, in_order)
                .order_by(ob.c.id).limit(limit))
        rows = sorted(await self._lease(ob, pick, free, now + lease_s), key=lambda r: r.id)
        return [Outgoing(r.id, r.team_id, r.channel_id, r.kind, json.loads(r.payload), r.incident_id,
                         r.attempts, r.created_at) for r in rows]

    async def incident_root(self, incident_id: int) -> str | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(inc.c.root_ts).where(inc.c.id == incident_id))).scalar()

    async def mark_sent(self, message: Outgoing, ts: str | None, now: float) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(ob).where(ob.c.id == message.id).values(
                status="sent", sent_at=now, slack_ts=ts, lease_owner=None, lease_until=None,
                attempts=message.attempts + 1))
            if message.kind == "root" and message.incident_id is not None and ts:
                await conn.execute(update(inc).where(inc.c.id == message.incident_id).values(root_ts=ts))

    async def mark_attempt(self, message: Outgoing, now: float) -> bool:
        """Before a post: a crash after Slack accepted it is detectable on the next attempt.
        False when this process no longer holds the message's lease: it must not post it."""
        async with self.engine.begin() as conn:
            result = await conn.execute(update(ob).where(
                ob.c.id == message.id, ob.c.lease_owner == self.owner, ob.c.lease_until > now,
                ob.c.status == "pending").values(attempts=message.attempts + 1))
        return bool(result.rowcount)

    async def root_pending(self, incident_id: int) -> bool:
        """Whether the incident's first message still waits to be posted."""
        async with self.engine.connect() as conn:
            return bool((await conn.execute(select(ob.c.id).where(
                ob.c.incident_id == incident_id, ob.c.kind == "root", ob.c.status == "pending"))).first())

    async def retry_later(self, message: Outgoing, at: float, error: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(ob).where(ob.c.id == message.id).values(
                next_attempt_at=at, lease_owner=None, lease_until=None, last_error=error[:200]))

    async def drop(self, message: Outgoing, error: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(ob).where(ob.c.id == message.id).values(
                status="dropped", lease_owner=None, lease_until=None, last_error=error[:200]))

    async def gauges(self) -> dict[str, float]:
        """Counts for /metrics."""
        def total(table: Table, *where: ColumnElement[bool]) -> Select[Any]:
            return select(func.count()).select_from(table).where(*where)

        async with self.engine.connect() as conn:
            values = [(await conn.execute(q)).scalar() or 0 for q in (
                total(li), total(w), total(ob, ob.c.status == "pending"), total(ob, ob.c.status == "sent"))]
        return dict(zip(("listings_open", "watches", "alerts_pending", "alerts_sent"),
                        map(float, values), strict=True))

    async def pending_count(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(ob).where(
                ob.c.status == "pending"))).scalar() or 0)
