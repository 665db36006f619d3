"""The state store's tables (SQLAlchemy Core): what cx-agent remembers between runs.

A run is keyed by (metric, period): running a period again replaces its run row and,
through ``ON DELETE CASCADE``, its findings and causes, so nothing is duplicated.
Episodes, deliveries, silences and feedback outlive the runs that created them.

Timestamps are stored as timezone-naive UTC (``DateTime``); periods as the naive start
of the metric's grain bucket, as in the cube. Segments are JSON objects
(``{"channel": "app"}``; ``{}`` is the total) and ``segment_key`` is their canonical
text (``channel=app&device=android``, sorted by dimension, ``""`` for the total).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
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

__all__ = [
    "SCHEMA_VERSION",
    "causes",
    "cube_periods",
    "cube_spans",
    "deliveries",
    "delivery_bodies",
    "episodes",
    "feedback",
    "findings",
    "job_health",
    "meta",
    "metadata",
    "runs",
    "silences",
]

SCHEMA_VERSION = 3
"""Bump with a forward migration in ``migrations.py`` whenever a table changes."""

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
"""``schema_version``, ``install_id`` (random, made with the store: it keeps two installs'
message ids apart) and other store-wide facts."""

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("metric", String(200), nullable=False),
    Column("period", DateTime, nullable=False),
    Column("status", String(16), nullable=False),  # ok | findings | late | error
    Column("severity", String(16)),  # worst finding's severity, NULL when none
    Column("value", Float),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=False),
    Column("report_path", Text),  # reports/<date>/<metric>.html, relative to the reports dir
    Column("notes", JSON, nullable=False, default=list),
    Column("error", Text),
    UniqueConstraint("metric", "period", name="uq_runs_metric_period"),
)

episodes = Table(
    "episodes",
    metadata,
    # "<metric>#<n>", given when the incident is first recorded and kept for good (stores
    # before schema 3 named them "<metric>|<segment_key>|<since ISO>"; those ids stay valid)
    Column("id", String(400), primary_key=True),
    Column("metric", String(200), nullable=False),
    Column("segment", JSON, nullable=False),  # the segment it was first seen in
    Column("segment_key", Text, nullable=False),
    Column("segments", JSON),  # every segment of the incident; NULL: just ``segment``
    # pending | new | ongoing | recovered | merged (into another episode of the incident)
    Column("status", String(16), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("data_late", Boolean, nullable=False, default=False),  # a late-data episode
    Column("since", DateTime, nullable=False),  # the onset: a later run may date it earlier
    Column("first_seen", DateTime),  # the first period with a finding (NULL: before schema 3)
    Column("last_seen", DateTime, nullable=False),
    Column("periods", Integer, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("peak_score", Float, nullable=False, default=0.0),  # largest |score| so far
    Column("last_value", Float),
    Column("last_expected", Float),
    Column("recovered_at", DateTime),  # period in which it closed
    Column("updated_at", DateTime, nullable=False),
    Index("ix_episodes_metric_status", "metric", "status"),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("episode_id", ForeignKey("episodes.id"), index=True),
    Column("metric", String(200), nullable=False),
    Column("period", DateTime, nullable=False),
    Column("segment", JSON, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("value", Float),  # NULL: the series has no value in that period
    Column("expected", Float),
    Column("lower", Float, nullable=False),
    Column("upper", Float, nullable=False),
    Column("direction", String(8), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("since", DateTime, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("explained_share", Float),
)

causes = Table(
    "causes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("finding_id", ForeignKey("findings.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("rank", Integer, nullable=False),  # 1 = largest contribution
    Column("segment", JSON, nullable=False),
    Column("share", Float, nullable=False),
    Column("value_before", Float, nullable=False),
    Column("value_after", Float, nullable=False),
    Column("size_before", Float, nullable=False),
    Column("size_after", Float, nullable=False),
    Column("rate_effect", Float, nullable=False),
    Column("mix_effect", Float, nullable=False),
    Column("confidence", Float, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # what makes a delivery unique: "<channel>|<episode_id or run key>|<decision>|<period>";
    # inserting an existing key is how a re-run or a restart finds the delivery already made
    Column("dedup_key", Text, nullable=False, unique=True),
    Column("channel", String(200), nullable=False),
    Column("metric", String(200), nullable=False),
    # the episode's id, by value: the outbox must not depend on when a run records episodes
    Column("episode_id", String(400)),  # NULL for a notify-test
    # rows with one group_key go out as one message (a run's alerts to one channel, or the
    # follow-ups to one thread); it is also the key the channel is given to find it again
    Column("group_key", Text, nullable=False),
    Column("body_key", String(400)),  # delivery_bodies.key: the run's email, chart, report JSON
    Column("period", DateTime),
    Column("decision", String(24), nullable=False),  # new | update_in_thread | remind | resolved
    Column("status", String(16), nullable=False),  # pending | sending | sent | failed | expired
    Column("payload", JSON, nullable=False),  # the AlertMessage, as sent (resent after a crash)
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime),
    Column("last_error", Text),  # never holds a secret: errors are redacted before storing
    Column("external_id", Text),  # Slack "channel:ts", email Message-ID, webhook request id
    Column("thread_id", Text),  # external_id of the episode's first message (Slack thread)
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_deliveries_status", "status", "next_attempt_at"),
    Index("ix_deliveries_episode", "episode_id", "channel"),
    Index("ix_deliveries_group", "group_key"),
)

delivery_bodies = Table(
    "delivery_bodies",
    metadata,
    Column("key", String(400), primary_key=True),  # "<metric>|<period ISO>"
    # the run's email (subject, html, text, base64 PNGs by Content-ID) and report JSON
    Column("body", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

silences = Table(
    "silences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("metric", String(200), nullable=False),
    Column("segment", JSON, nullable=False),  # {} silences the metric and all its segments
    Column("reason", Text, nullable=False),
    Column("created_by", String(200)),
    Column("created_at", DateTime, nullable=False),
    Column("ends_at", DateTime, nullable=False),
    Column("lifted_at", DateTime),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("episode_id", ForeignKey("episodes.id"), nullable=False, index=True),
    Column("metric", String(200), nullable=False),
    Column("label", String(16), nullable=False),  # true | false | expected
    Column("note", Text),
    Column("starts_on", DateTime),  # for "expected": the window it covers
    Column("ends_on", DateTime),
    Column("created_at", DateTime, nullable=False),
)

job_health = Table(
    "job_health",
    metadata,
    Column("metric", String(200), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),  # failed runs in a row
    Column("last_error", Text),
    Column("last_attempt", DateTime, nullable=False),
    Column("last_success", DateTime),
    Column("last_failure", DateTime),  # kept after a success, with last_error: status shows it
    Column("failed_in", String(16)),  # the command of the last failure: run | backfill | serve
)
"""Per metric, how its runs went: ``cx-agent status`` calls a metric whose latest run failed
stuck. Every command that runs metrics (run, backfill, serve, the demo) records here."""

cube_spans = Table(
    "cube_spans",
    metadata,
    Column("metric", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # of the query and warehouse
    Column("first", DateTime, nullable=False),
    Column("last", DateTime, nullable=False),
)
"""Per metric, the periods whose cube is stored and final (past the mutability window)."""

cube_periods = Table(
    "cube_periods",
    metadata,
    Column("metric", String(200), primary_key=True),
    Column("period", DateTime, primary_key=True),
    Column("cells", JSON, nullable=False),  # {"dims": [[…], …], "num": […], "den": […]}
)
"""The stored cube, one row per final period, reused by incremental runs."""
