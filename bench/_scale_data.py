"""Demo-schema DuckDB warehouses of any size, generated inside DuckDB SQL.

The tables, columns and views are those of ``agent.sources.demo`` (``customers``,
``events``, ``nps_responses``, ``known_events``, ``customer_events``, ``customer_nps``),
so the demo ``metrics.yaml`` runs on them unchanged. The shape follows the demo: about
40 events per customer over 210 days, ~2.6 events per active customer-day, tiers with
their shares and visit rates, a preferred channel per customer, mobile devices per
customer. No incidents are planted: these files measure speed, not detection.

Randomness is ``hash(row, salt)``, so a file is the same for a given size on any number
of threads. Rows are written in time order, as a warehouse loads them.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from agent.sources.demo import ACQ_SHARE, ACQUISITIONS, REGION_POP, REGIONS, TIER_BASKET, TIERS

__all__ = ["DAYS", "END", "generate_scaled"]

END = date(2026, 6, 30)
DAYS = 210
EVENTS_PER_CUSTOMER = 40
EVENTS_PER_DAY = 2.5  # events per active customer-day: 1 + (0..3)
TIER_SHARE = (0.05, 0.15, 0.30, 0.50)
TIER_ACTIVITY = (0.30, 0.20, 0.11, 0.055)  # active days per day, as in the demo
CHANNEL_PREF = (("web", 0.35), ("app", 0.40), ("store", 0.25))
NPS_SHARE = 0.037  # NPS responses per event
NPS_CHANNEL = (("web", 0.25), ("app", 0.30), ("store", 0.15), ("call_center", 0.30))


def _u(key: str, salt: int) -> str:
    """A uniform number in [0, 1) drawn from ``key`` (deterministic)."""
    return f"((hash({key}, {salt}) % 1000000) / 1000000.0)"


def _pick(u: str, choices: tuple[tuple[str, float], ...]) -> str:
    """SQL choosing a label with the given weights from the uniform ``u``."""
    total = sum(w for _, w in choices)
    edges = np.cumsum([w / total for _, w in choices])
    whens = " ".join(
        f"WHEN {u} < {e:.6f} THEN '{n}'" for (n, _), e in zip(choices, edges, strict=True)
    )
    return f"(CASE {whens} ELSE '{choices[-1][0]}' END)"


def _tier_bounds(customers: int) -> list[tuple[str, int, int]]:
    """Tiers own contiguous id ranges [lo, hi): premium first."""
    edges = np.rint(np.cumsum((0,) + TIER_SHARE) * customers).astype(int)
    return [
        (t, int(lo) + 1, int(hi) + 1)
        for t, lo, hi in zip(TIERS, edges[:-1], edges[1:], strict=True)
    ]


def _customer_of(key: str, customers: int) -> str:
    """SQL drawing an active customer: a tier by its share of activity, then a customer
    within the tier, the lower ids of a tier more active."""
    bounds = _tier_bounds(customers)
    weights = np.array(TIER_SHARE) * np.array(TIER_ACTIVITY)
    edges = np.cumsum(weights / weights.sum())
    u, v = _u(key, 1), _u(key, 2)
    whens = " ".join(
        f"WHEN {u} < {e:.6f} THEN {lo} + floor({v} * {v} * {hi - lo})::BIGINT"
        for (_, lo, hi), e in zip(bounds[:-1], edges[:-1], strict=True)
    )
    _, lo, hi = bounds[-1]
    return f"(CASE {whens} ELSE {lo} + floor({v} * {v} * {hi - lo})::BIGINT END)"


def _customers_sql(customers: int) -> str:
    tier = " ".join(f"WHEN customer_id < {hi} THEN '{t}'" for t, _, hi in _tier_bounds(customers))
    region = _pick(_u("customer_id", 11), tuple(zip(REGIONS, REGION_POP, strict=True)))
    acquisition = _pick(_u("customer_id", 12), tuple(zip(ACQUISITIONS, ACQ_SHARE, strict=True)))
    signup = f"DATE '{END}' - (hash(customer_id, 13) % 1000)::INTEGER"
    return f"""
CREATE TABLE customers AS
SELECT customer_id, (CASE {tier} END) AS tier, {region} AS region,
       {acquisition} AS acquisition, {signup} AS signup_date
FROM range(1, {customers + 1}) t(customer_id)"""


def _events_sql(events: int, customers: int) -> str:
    days = round(events / EVENTS_PER_DAY)
    start = f"TIMESTAMP '{END}' - INTERVAL {DAYS - 1} DAY"
    basket = " ".join(
        f"WHEN customer_id < {hi} THEN {b}"
        for (_, _, hi), b in zip(_tier_bounds(customers), TIER_BASKET, strict=True)
    )
    channel = _pick(_u("customer_id", 21), CHANNEL_PREF)
    other = _pick(_u("j", 22), CHANNEL_PREF)
    mobile = f"(CASE WHEN {_u('customer_id', 23)} < 0.6 THEN 'android' ELSE 'ios' END)"
    web = f"(CASE WHEN {_u('customer_id', 24)} < 0.55 THEN 'desktop' ELSE {mobile} END)"
    kind = f"(CASE WHEN {_u('k', 25)} < 0.80 THEN 'visit' WHEN {_u('k', 25)} < 0.97 "
    kind += "THEN 'purchase' ELSE 'support' END)"
    return f"""
CREATE TABLE events AS
WITH days AS (
  SELECT j, j * {DAYS} // {days} AS day, {_customer_of("j", customers)} AS customer_id,
         (1 + hash(j, 3) % 4)::BIGINT AS n,
         ((8 + hash(j, 4) % 14) * 3600 + hash(j, 5) % 3000)::BIGINT AS sec
  FROM range({days}) t(j)
), chosen AS (
  SELECT *, CASE WHEN {_u("j", 6)} < 0.7 THEN {channel} ELSE {other} END AS day_channel
  FROM days
), expanded AS (
  SELECT *, unnest(range(n)) AS e FROM chosen
), keyed AS (
  SELECT *, j * 4 + e AS k FROM expanded
), typed AS (
  SELECT *, {kind} AS event_type FROM keyed
), placed AS (
  SELECT *, CASE WHEN event_type = 'support' AND {_u("k", 26)} < 0.75 THEN 'call_center'
                 ELSE day_channel END AS channel
  FROM typed
)
SELECT k + 1 AS event_id, customer_id,
       {start} + to_seconds(day * 86400 + sec + e * 300) AS event_time,
       event_type, channel,
       CASE channel WHEN 'app' THEN {mobile} WHEN 'web' THEN {web} END AS device,
       CASE WHEN event_type = 'purchase' THEN round((CASE {basket} END)
            * (0.4 + 1.2 * {_u("k", 27)}) * (CASE channel WHEN 'store' THEN 1.2 ELSE 1 END), -2)
       END AS amount
FROM placed"""


def _nps_sql(responses: int, customers: int) -> str:
    start = f"TIMESTAMP '{END}' - INTERVAL {DAYS - 1} DAY"
    when = f"r * {DAYS * 86400} // {responses} + (hash(r, 31) % 3600)::BIGINT"
    score = f"least(10, floor(11 * sqrt({_u('r', 32)})))::INTEGER"
    return f"""
CREATE TABLE nps_responses AS
SELECT r + 1 AS response_id, {_customer_of("r", customers)} AS customer_id,
       {start} + to_seconds({when}) AS response_time,
       {_pick(_u("r", 33), NPS_CHANNEL)} AS channel, {score} AS score
FROM range({responses}) t(r)"""


_KNOWN = (  # name, kind, days before END of start and end, channel, device, tier
    ("Android app 5.2 release", "release", 40, 40, "NULL", "'android'", "NULL"),
    ("Checkout page redesign", "release", 15, 15, "'web'", "'desktop'", "NULL"),
    ("Autumn loyalty campaign", "campaign", 75, 61, "NULL", "NULL", "'premium'"),
)
_KNOWN_ROWS = ",\n  ".join(
    f"('{n}', '{k}', DATE '{END}' - {a}, DATE '{END}' - {b}, {c}, {d}, {t})"
    for n, k, a, b, c, d, t in _KNOWN
)
_REST = f"""
CREATE TABLE known_events AS SELECT * FROM (VALUES
  {_KNOWN_ROWS}
) v(name, kind, start_date, end_date, channel, device, tier);
CREATE VIEW customer_events AS SELECT e.*, c.tier, c.region, c.acquisition, c.signup_date
  FROM events e JOIN customers c USING (customer_id);
CREATE VIEW customer_nps AS SELECT r.*, c.tier, c.region, c.acquisition, c.signup_date
  FROM nps_responses r JOIN customers c USING (customer_id);
"""


def generate_scaled(path: Path, events: int) -> None:
    """Write a demo-schema warehouse of about ``events`` events to ``path`` (replacing it).

    The file is built next to ``path`` and renamed into place, so a crash leaves no half.
    """
    customers = max(100, events // EVENTS_PER_CUSTOMER)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(_customers_sql(customers))
        con.execute(_events_sql(events, customers))
        con.execute(_nps_sql(round(events * NPS_SHARE), customers))
        con.execute(_REST)
        con.execute("CHECKPOINT")
    os.replace(tmp, path)
