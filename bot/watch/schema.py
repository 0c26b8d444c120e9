"""The watch tables. Times are epoch seconds (floats): the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, nullable=False),
)

watches = Table(
    "watches", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team_id", String(32), nullable=False),
    Column("channel_id", String(32), nullable=False),
    Column("target", String(320), nullable=False),
    Column("created_by", String(32)),
    Column("created_at", Float, nullable=False),
    Column("interval_s", Integer, nullable=False),
    Column("next_check_at", Float, nullable=False),
    Column("lease_owner", String(80)),
    Column("lease_until", Float),
    Column("muted_until", Float),
    Column("last_checked_at", Float),
    Column("baseline_done", Boolean, nullable=False, default=False),
    Column("checks", Integer, nullable=False, default=0, server_default="0"),  # added by migration 3
    UniqueConstraint("team_id", "channel_id", "target", name="uq_watch"),
)
Index("ix_watches_due", watches.c.next_check_at)

# What is listed now, per watched address and list (only listings that count).
listings = Table(
    "listings", metadata,
    Column("watch_id", Integer, ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("list_id", String(64), primary_key=True),
    Column("codes", String(200), nullable=False, default=""),
    Column("reason", Text),
    Column("since", Float, nullable=False),
)

# One incident per watch from the first listing to the all-clear: one Slack thread.
incidents = Table(
    "incidents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("watch_id", Integer, ForeignKey("watches.id", ondelete="CASCADE"), nullable=False),
    Column("opened_at", Float, nullable=False),
    Column("closed_at", Float),
    Column("root_ts", String(32)),
)

# The listing timeline: /blcheck history.
events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("watch_id", Integer, ForeignKey("watches.id", ondelete="CASCADE"), nullable=False),
    Column("address", String(320), nullable=False),
    Column("list_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # listed, delisted
    Column("at", Float, nullable=False),
    Column("codes", String(200)),
    Column("reason", Text),
)
Index("ix_events_watch", events.c.watch_id, events.c.at)

# Messages to Slack, written in the same transaction as the state change they announce.
outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team_id", String(32), nullable=False),
    Column("channel_id", String(32), nullable=False),
    Column("watch_id", Integer, ForeignKey("watches.id", ondelete="SET NULL")),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="SET NULL")),
    Column("kind", String(16), nullable=False),  # root, thread, update, notice
    Column("payload", Text, nullable=False),  # JSON: text and blocks
    Column("status", String(12), nullable=False, default="pending"),  # pending, sent, dropped
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("lease_owner", String(80)),
    Column("lease_until", Float),
    Column("created_at", Float, nullable=False),
    Column("sent_at", Float),
    Column("slack_ts", String(32)),
    Column("last_error", String(200)),
)
Index("ix_outbox_pending", outbox.c.status, outbox.c.next_attempt_at)

# Added by migration 2: the health of each list as watches last saw it, so a list that dies (or
# starts listing the world) is announced once, and its recovery once.
list_health = Table(
    "list_health", metadata,
    Column("list_id", String(64), primary_key=True),
    Column("usable", Boolean, nullable=False),
    Column("status", String(32), nullable=False),
    Column("detail", Text),
    Column("since", Float, nullable=False),
)

# Added by migration 3: a big range (more than one slice of addresses) is checked slice by slice,
# and the slices of one run are claimed by whichever processes are free; the process finishing the
# last slice merges them into the watch's one change.
watch_slices = Table(
    "watch_slices", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("watch_id", Integer, ForeignKey("watches.id", ondelete="CASCADE"), nullable=False),
    Column("first", Integer, nullable=False),  # offset of the slice's first address in the range
    Column("size", Integer, nullable=False),
    Column("status", String(12), nullable=False, default="pending"),  # pending, done
    Column("lease_owner", String(80)),
    Column("lease_until", Float),
    Column("listed", Text),  # JSON: [[address, list id, codes, reason, meaning, list name], ...]
    Column("gone", Text),  # JSON: [[address, list id], ...] listings on record answered clean
    Column("answered", Boolean, nullable=False, default=False),
)
Index("ix_slices_watch", watch_slices.c.watch_id, watch_slices.c.status)

# Added by migration 3: queries spent per budget group and UTC day, across processes.
query_budget = Table(
    "query_budget", metadata,
    Column("grp", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD, UTC
    Column("used", Integer, nullable=False, default=0),
    Column("warned", Integer, nullable=False, default=0),  # highest warning level announced
)

V1_TABLES = [schema_version, watches, listings, incidents, events, outbox]
