"""Sending what the outbox recorded: retried with backoff, never sent twice after a crash.

A group of rows (one message) is claimed (``pending`` → ``sending``, all rows or none, so
two senders never both send it) before the channel is called, with a lease. If the
process dies before the channel's answer is recorded, the first pass after the lease
gives the group back (``pending``, or ``expired`` when too old) and asks the channel
(``Notifier.find``) whether it arrived: Slack (bot token) and the file channel can tell,
and the message is not sent again; email and webhooks cannot, and it is sent once more
with the same Message-ID / ``X-CX-Agent-Delivery`` so the receiver can drop it.

Retryable failures (timeouts, 5xx, 429) wait ``backoff(attempts)``; other failures are
final (``failed``, with the reason). A delivery not sent ``EXPIRE_AFTER`` after its run
is ``expired``. Follow-ups wait until the thread's first message is out.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, select, update

from agent.message import AlertMessage, message_from_dict
from agent.notify.base import Decision, DeliveryRef, Item, Notice, Notifier, NotifyError
from agent.notify.outbox import load_body, naive_utc
from agent.store import Store
from agent.store.schema import deliveries

__all__ = ["LEASE", "backoff", "deliver", "flush", "has_work"]

LEASE = timedelta(minutes=5)
"""How long a ``sending`` group belongs to the process sending it."""
_BASE, _CAP = timedelta(seconds=10), timedelta(minutes=30)
_OPEN = ("pending", "sending")
log = logging.getLogger("agent.notify")


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s … at most 30 min after the ``attempts``-th failure."""
    return min(_BASE * (1 << max(attempts - 1, 0)), _CAP)


def deliver(store: Store, notifiers: Mapping[str, Notifier], *, now: datetime) -> Counter[str]:
    """One pass over the due deliveries; counts of ``sent``, ``retrying``, ``failed``…"""
    now = naive_utc(now)
    outcome: Counter[str] = Counter(expired=_reclaim(store, now))
    for key in _due_groups(store, now):
        outcome[_deliver_group(store, notifiers, key, now)] += 1
    return +outcome


def has_work(store: Store, now: datetime) -> bool:
    """Whether ``deliver`` has anything to do now: a delivery due, a lease over, or one
    to expire. Cheap, so every run can look without building a channel."""
    now = naive_utc(now)
    d = deliveries.c
    waiting = d.next_attempt_at.is_(None) | (d.next_attempt_at <= now) | (d.expires_at <= now)
    with store.engine.connect() as conn:
        found = conn.execute(select(d.id).where(d.status.in_(_OPEN), waiting).limit(1)).first()
    return found is not None


def flush(
    store: Store,
    notifiers: Mapping[str, Notifier],
    *,
    budget: timedelta,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> Counter[str]:
    """Deliver, waiting out backoffs while the next retry falls within ``budget``."""
    deadline = naive_utc(clock() + budget)
    total: Counter[str] = Counter()
    while True:
        total += deliver(store, notifiers, now=clock())
        now = naive_utc(clock())
        upcoming = _next_due(store, now)
        if upcoming is None or upcoming > deadline:
            return total
        sleep(max(0.0, (upcoming - now).total_seconds()))


def _reclaim(store: Store, now: datetime) -> int:
    """Expire what waited too long; give back groups whose sender died mid-send (``sending``
    past the lease) as ``pending``, to be asked for (``find``) and retried. The number
    expired."""
    d = deliveries.c
    lease_over = (d.status == "sending") & (d.next_attempt_at <= now)
    with store.transaction() as conn:
        done = conn.execute(
            update(deliveries)
            .where(((d.status == "pending") | lease_over) & (d.expires_at <= now))
            .values(status="expired")
        )
        conn.execute(update(deliveries).where(lease_over).values(status="pending"))
    return done.rowcount or 0


def _due_groups(store: Store, now: datetime) -> list[str]:
    d = deliveries.c
    due = (d.status == "pending") & (d.next_attempt_at.is_(None) | (d.next_attempt_at <= now))
    with store.engine.connect() as conn:
        keys = conn.execute(select(d.group_key).where(due).order_by(d.id))
        return list(dict.fromkeys(keys.scalars()))


def _next_due(store: Store, now: datetime) -> datetime | None:
    with store.engine.connect() as conn:
        return conn.execute(
            select(deliveries.c.next_attempt_at)
            .where(deliveries.c.status.in_(_OPEN), deliveries.c.next_attempt_at > now)
            .order_by(deliveries.c.next_attempt_at)
            .limit(1)
        ).scalar()


def _deliver_group(store: Store, notifiers: Mapping[str, Notifier], key: str, now: datetime) -> str:
    with store.engine.connect() as conn:
        rows = _rows(conn, deliveries.c.group_key == key, open_only=True)
        if not rows:
            return "done"
        thread = _thread(conn, rows)
        if thread == "wait":
            return "waiting"
        notice = _notice(conn, key, rows, thread)
    notifier = notifiers.get(rows[0].channel)
    ids = [r.id for r in rows]
    if notifier is None:
        _finish(store, ids, status="failed", error=f"channel {rows[0].channel!r} is not configured")
        return "failed"
    ref = thread if isinstance(thread, DeliveryRef) else None
    if not _claim(store, ids, now):
        return "busy"  # another run or serve took the group between our read and now
    # A crash mid-send (a lease run out) or an earlier attempt that timed out may have
    # reached the channel: ask it first where it can tell.
    if any(r.attempts for r in rows):
        found = notifier.find(notice, thread=ref)
        if found is not None:
            _finish(store, ids, status="sent", ref=found, thread=ref, now=now)
            log.info("%s: %s had already arrived", notice.key, found.external_id)
            return "recovered"
    return _send(store, notifier, notice, ids, ref, now)


def _claim(store: Store, ids: list[int], now: datetime) -> bool:
    """Take the group's rows from ``pending`` to ``sending`` under a lease, all or none;
    False when another sender holds them."""
    d = deliveries.c
    try:
        with store.transaction() as conn:
            taken = conn.execute(
                update(deliveries)
                .where(d.id.in_(ids), d.status == "pending")
                .values(status="sending", next_attempt_at=now + LEASE)
            )
            if (taken.rowcount or 0) < len(ids):
                raise _Taken  # rolls the partial claim back
    except _Taken:
        return False
    return True


class _Taken(Exception):
    """Another sender claimed some rows of a group first."""


def _send(
    store: Store,
    notifier: Notifier,
    notice: Notice,
    ids: list[int],
    thread: DeliveryRef | None,
    now: datetime,
) -> str:
    with store.transaction() as conn:
        d = deliveries.c
        conn.execute(update(deliveries).where(d.id.in_(ids)).values(attempts=d.attempts + 1))
        attempts = max(_attempts(conn, ids))
    try:
        ref = notifier.send(notice, thread=thread)
    except NotifyError as exc:
        return _failed(store, notice.key, ids, exc, attempts, now)
    _finish(store, ids, status="sent", ref=ref, thread=thread, now=now)
    log.info("%s: sent as %s", notice.key, ref.external_id)
    return "sent"


def _failed(
    store: Store, key: str, ids: list[int], exc: NotifyError, attempts: int, now: datetime
) -> str:
    if exc.retryable:
        retry_at = now + backoff(attempts)
        _finish(store, ids, status="pending", error=exc.reason, retry_at=retry_at)
        log.warning("%s: attempt %d failed, retrying at %s: %s", key, attempts, retry_at, exc)
        return "retrying"
    _finish(store, ids, status="failed", error=exc.reason)
    log.error("%s: failed: %s", key, exc)
    return "failed"


def _finish(
    store: Store,
    ids: list[int],
    *,
    status: str,
    ref: DeliveryRef | None = None,
    thread: DeliveryRef | None = None,
    now: datetime | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "next_attempt_at": retry_at}
    if ref is not None:
        values |= {"external_id": ref.external_id, "sent_at": now}
        values["thread_id"] = thread.external_id if thread else ref.external_id
    if error is not None:
        values["last_error"] = error
    with store.transaction() as conn:
        conn.execute(update(deliveries).where(deliveries.c.id.in_(ids)).values(**values))


def _attempts(conn: Connection, ids: list[int]) -> Iterator[int]:
    yield from conn.execute(select(deliveries.c.attempts).where(deliveries.c.id.in_(ids))).scalars()


def _rows(conn: Connection, where: Any, *, open_only: bool = False) -> list[Row[Any]]:
    query = select(deliveries).where(where).order_by(deliveries.c.id)
    if open_only:
        query = query.where(deliveries.c.status.in_(_OPEN))
    return list(conn.execute(query))


def _thread(conn: Connection, rows: list[Row[Any]]) -> DeliveryRef | str | None:
    """The first message's handle for a follow-up; "wait" while it is still to be sent;
    None for a new alert, or when the first message never went out (sent on its own)."""
    _, sep, parent_key = rows[0].group_key.partition("|re:")
    if not sep:
        return None
    parents = _rows(conn, deliveries.c.group_key == parent_key)
    sent = [p for p in parents if p.status == "sent"]
    if sent:
        return DeliveryRef(rows[0].channel, sent[0].external_id)
    return "wait" if any(p.status in _OPEN for p in parents) else None


def _notice(
    conn: Connection, key: str, rows: list[Row[Any]], thread: DeliveryRef | str | None
) -> Notice:
    items = [Item(Decision(r.decision), message_from_dict(r.payload)) for r in rows]
    parent: list[AlertMessage] = []
    if isinstance(thread, DeliveryRef):
        parent_key = rows[0].group_key.partition("|re:")[2]
        parent = [_latest(conn, p) for p in _rows(conn, deliveries.c.group_key == parent_key)]
    return Notice(key, items, load_body(conn, rows[0].body_key), parent)


def _latest(conn: Connection, row: Row[Any]) -> AlertMessage:
    """The newest message about ``row``'s episode on its channel: its current state."""
    payload = conn.execute(
        select(deliveries.c.payload)
        .where(deliveries.c.channel == row.channel, deliveries.c.episode_id == row.episode_id)
        .order_by(deliveries.c.id.desc())
        .limit(1)
    ).scalar_one()
    return message_from_dict(payload)
