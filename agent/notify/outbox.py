"""The outbox: what to tell each channel (``decide``), recorded before it is sent (``enqueue``).

``decide`` is pure: given the last delivery of an episode to a channel and the episode's
message in this run, it says NEW, UPDATE_IN_THREAD (worse by the policy's margin, or more
severe), REMIND (still going after the reminder interval), RESOLVED or SKIP. ``enqueue``
writes one ``deliveries`` row per decision that is not SKIP, in the same transaction for
the whole run; ``delivery.deliver`` sends them. A row's ``dedup_key`` is
``<channel>|<episode>|<decision>|<period>``, so running a period again adds nothing. The
episode is the incident's lasting id (``agent.store.identity``): an onset dated earlier by
a later run, or one more segment showing the incident, is an update in its thread, never
a second "new". A message's group key, which every channel carries as the message's id
(the email Message-ID, the webhook's delivery header), ends with the store's random
``install_id``, so two installs never send messages with the same id.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from agent.message import AlertMessage, message_to_dict
from agent.model import Severity
from agent.notify.base import Decision, RunBody
from agent.store import Store
from agent.store.schema import deliveries, delivery_bodies

__all__ = [
    "EXPIRE_AFTER",
    "LastDelivery",
    "NotifyPolicy",
    "decide",
    "enqueue",
    "load_body",
    "naive_utc",
]

EXPIRE_AFTER = timedelta(hours=24)
"""A delivery still not sent this long after its run is dropped (``expired``): stale news."""


@dataclass(frozen=True)
class NotifyPolicy:
    """When an ongoing episode is worth another message.

    ``worse_by``: the gap to the expected value grew by this fraction since the last message
    (0.5: half as large again), or the severity rose. ``remind_after``: still going this
    long after the last message (None: never remind).
    """

    worse_by: float = 0.5
    remind_after: timedelta | None = timedelta(days=7)


@dataclass(frozen=True)
class LastDelivery:
    """What ``decide`` needs of an episode's latest delivery to a channel."""

    decision: Decision
    period: str
    severity: Severity
    deviation: float
    created_at: datetime


def decide(
    last: LastDelivery | None, msg: AlertMessage, now: datetime, policy: NotifyPolicy
) -> Decision:
    """What this run tells a channel about ``msg``'s episode. Pure: ``now`` is passed in."""
    if msg.state == "recovered":
        told = last is not None and last.decision is not Decision.RESOLVED
        return Decision.RESOLVED if told else Decision.SKIP
    if last is None:
        return Decision.NEW
    if last.decision is Decision.RESOLVED or last.period == msg.period:
        return Decision.SKIP
    severity = Severity(msg.severity)
    grown = last.deviation > 0 and msg.deviation >= last.deviation * (1 + policy.worse_by)
    if severity.rank > last.severity.rank or grown:
        return Decision.UPDATE_IN_THREAD
    if policy.remind_after is not None and now - last.created_at >= policy.remind_after:
        return Decision.REMIND
    return Decision.SKIP


def naive_utc(dt: datetime) -> datetime:
    """The store keeps timestamps as timezone-naive UTC."""
    return dt if dt.tzinfo is None else dt.astimezone(UTC).replace(tzinfo=None)


def enqueue(
    store: Store,
    routed: Mapping[str, list[AlertMessage]],
    *,
    now: datetime,
    policy: NotifyPolicy,
    body: Callable[[], RunBody] | None = None,
) -> int:
    """Record what each channel is to be told about this run; return the rows added.

    ``routed`` maps a channel name to the messages it should hear about (already filtered
    by severity and silences). ``body`` makes the run's email, chart and report JSON; it
    is called only when something is to be sent.
    """
    now = naive_utc(now)
    first = next((m for messages in routed.values() for m in messages), None)
    body_key = f"{first.metric}|{first.period}" if first and body else None
    added = 0
    with store.transaction() as conn:
        for channel, messages in routed.items():
            for msg in messages:
                decision = decide(_last(conn, channel, msg.episode_id), msg, now, policy)
                if decision is not Decision.SKIP:
                    group = _group_key(conn, channel, msg, decision, store.install_id())
                    added += _insert(conn, channel, msg, decision, now, (group, body_key))
        if added and body is not None:
            _save_body(conn, body_key, body(), now)
    return added


def _last(conn: Connection, channel: str, episode: str) -> LastDelivery | None:
    row = conn.execute(
        select(deliveries.c.decision, deliveries.c.payload, deliveries.c.created_at)
        .where(deliveries.c.channel == channel, deliveries.c.episode_id == episode)
        .order_by(deliveries.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    payload = row.payload
    return LastDelivery(
        decision=Decision(row.decision),
        period=payload["period"],
        severity=Severity(payload["severity"]),
        deviation=float(payload["deviation"]),
        created_at=row.created_at,
    )


def _group_key(
    conn: Connection, channel: str, msg: AlertMessage, decision: Decision, install: str
) -> str:
    """A run's new alerts to a channel go out together; follow-ups together per thread."""
    if decision is Decision.NEW:
        return f"{channel}|{msg.metric}|{msg.period}|new|{install}"
    first = conn.execute(
        select(deliveries.c.group_key)
        .where(deliveries.c.channel == channel, deliveries.c.episode_id == msg.episode_id)
        .order_by(deliveries.c.id)
        .limit(1)
    ).scalar_one()
    return f"{channel}|{msg.metric}|{msg.period}|re:{first}"


def _insert(
    conn: Connection,
    channel: str,
    msg: AlertMessage,
    decision: Decision,
    now: datetime,
    keys: tuple[str, str | None],
) -> int:
    """Add one delivery row; ``keys`` are its group key and body key."""
    group_key, body_key = keys
    key = f"{channel}|{msg.episode_id}|{decision}|{msg.period}"
    if conn.execute(select(deliveries.c.id).where(deliveries.c.dedup_key == key)).first():
        return 0
    conn.execute(
        deliveries.insert().values(
            dedup_key=key,
            group_key=group_key,
            body_key=body_key,
            channel=channel,
            metric=msg.metric,
            episode_id=msg.episode_id,
            period=datetime.fromisoformat(msg.period).replace(tzinfo=None),
            decision=str(decision),
            status="pending",
            payload=message_to_dict(msg),
            attempts=0,
            created_at=now,
            expires_at=now + EXPIRE_AFTER,
        )
    )
    return 1


def _save_body(conn: Connection, key: str | None, body: RunBody, now: datetime) -> None:
    data = {
        "subject": body.subject,
        "html": body.html,
        "text": body.text,
        "images": {cid: base64.b64encode(png).decode() for cid, png in body.images.items()},
        "report": body.report,
        "attachments": {name: base64.b64encode(b).decode() for name, b in body.attachments.items()},
    }
    conn.execute(delivery_bodies.delete().where(delivery_bodies.c.key == key))
    conn.execute(delivery_bodies.insert().values(key=key, body=data, created_at=now))


def load_body(conn: Connection, key: str | None) -> RunBody | None:
    if key is None:
        return None
    row = conn.execute(select(delivery_bodies.c.body).where(delivery_bodies.c.key == key)).first()
    if row is None:
        return None
    data = row.body
    images = {cid: base64.b64decode(b64) for cid, b64 in data["images"].items()}
    files = {name: base64.b64decode(b64) for name, b64 in data.get("attachments", {}).items()}
    return RunBody(data["subject"], data["html"], data["text"], images, data["report"], files)
