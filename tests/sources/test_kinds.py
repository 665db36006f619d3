"""Every metric kind computed in a real DuckDB file, checked against cubes worked out by hand.

The warehouse: 4 customers, 11 events from Mon 2024-01-01 to Wed 2024-01-10.
ISO weeks: W1 = Jan 1..7, W2 = Jan 8..14.

    ev  cust  time         type      channel  device   tier     amount
    1   1     Jan 1 09:00  visit     web      mobile   premium   0
    2   1     Jan 1 12:00  purchase  app      desktop  premium  30
    3   2     Jan 1 10:00  visit     app      NULL     basic     0
    4   3     Jan 2 08:00  visit     web      desktop  basic     0
    5   1     Jan 3 09:00  visit     app      mobile   premium   0
    6   2     Jan 3 11:00  purchase  app      NULL     premium  20
    7   4     Jan 4 10:00  visit     email    mobile   basic     0
    8   3     Jan 8 09:00  visit     web      desktop  basic     0
    9   1     Jan 9 10:00  purchase  web      mobile   premium  50
    10  4     Jan 10 10:00 visit     email    NULL     basic     0
    11  2     Jan 10 09:00 visit     app      tablet   premium   0

Entity-days (dimensions of the customer's first event that day):
    C1: Jan 1 (web, mobile, premium), Jan 3 (app, mobile, premium), Jan 9 (web, mobile, premium)
    C2: Jan 1 (app, none, basic), Jan 3 (app, none, premium), Jan 10 (app, tablet, premium)
    C3: Jan 2 (web, desktop, basic), Jan 8 (web, desktop, basic)
    C4: Jan 4 (email, mobile, basic), Jan 10 (email, none, basic)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import duckdb
import ibis
import ibis.expr.operations as ops
import numpy as np
import pandas as pd
import pytest

from agent.cube import OTHER, series_of
from agent.sources.base import CubeQuery, TableRef
from agent.sources.duckdb import DuckDBSource
from agent.sources.rows import period_span
from agent.sources.sql import build_cube_expr

EVENTS = [
    (1, "2024-01-01 09:00", "visit", "web", "mobile", "premium", 0),
    (1, "2024-01-01 12:00", "purchase", "app", "desktop", "premium", 30),
    (2, "2024-01-01 10:00", "visit", "app", None, "basic", 0),
    (3, "2024-01-02 08:00", "visit", "web", "desktop", "basic", 0),
    (1, "2024-01-03 09:00", "visit", "app", "mobile", "premium", 0),
    (2, "2024-01-03 11:00", "purchase", "app", None, "premium", 20),
    (4, "2024-01-04 10:00", "visit", "email", "mobile", "basic", 0),
    (3, "2024-01-08 09:00", "visit", "web", "desktop", "basic", 0),
    (1, "2024-01-09 10:00", "purchase", "web", "mobile", "premium", 50),
    (4, "2024-01-10 10:00", "visit", "email", None, "basic", 0),
    (2, "2024-01-10 09:00", "visit", "app", "tablet", "premium", 0),
]
EVENTS_TABLE = TableRef(name="events", table="events", time="event_time", entity="customer_id")
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> DuckDBSource:
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE events (customer_id INTEGER, event_time TIMESTAMP, event_type VARCHAR,"
            " channel VARCHAR, device VARCHAR, tier VARCHAR, amount DOUBLE)"
        )
        con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", EVENTS)
    src = DuckDBSource(path)
    yield src
    src.close()


def query(kind: str, *dims: str, grain: str = "day", start: int = 1, end: int = 10, **kw: object):
    return CubeQuery(
        metric=f"m_{kind}",
        kind=kind,  # type: ignore[arg-type]
        source=kw.pop("source", EVENTS_TABLE),  # type: ignore[arg-type]
        grain=grain,  # type: ignore[arg-type]
        dimensions=dims,
        start=date(2024, 1, start),
        end=date(2024, 1, end),
        **kw,  # type: ignore[arg-type]
    )


def rows(cube: pd.DataFrame) -> list[tuple[object, ...]]:
    """Cube rows as (day of month, dims..., num, den)."""
    return [(r[0].day, *r[1:]) for r in cube.itertuples(index=False)]


def test_count_by_day_takes_every_event(source: DuckDBSource) -> None:
    # Jan 1: ev1 web, ev2+ev3 app; Jan 2: ev4 web; Jan 3: ev5+ev6 app; Jan 4: ev7 email
    cube = source.fetch_cube(query("count", "channel", end=4))
    assert rows(cube) == [
        (1, "app", 2.0, 2.0),
        (1, "web", 1.0, 1.0),
        (2, "web", 1.0, 1.0),
        (3, "app", 2.0, 2.0),
        (4, "email", 1.0, 1.0),
    ]
    assert cube["period"].dtype.kind == "M" and cube["period"].dt.tz is None


def test_count_by_iso_week_with_filter_and_null_dimension(source: DuckDBSource) -> None:
    # visits only (ev 1,3,4,5,7 | 8,10,11); start Wed Jan 3 still opens week Mon Jan 1
    visits = replace(EVENTS_TABLE, filter="event_type = 'visit'")
    cube = source.fetch_cube(
        query("count", "channel", "device", grain="week", start=3, source=visits)
    )
    assert rows(cube) == [
        (1, "app", "(none)", 1.0, 1.0),  # ev3
        (1, "app", "mobile", 1.0, 1.0),  # ev5
        (1, "email", "mobile", 1.0, 1.0),  # ev7
        (1, "web", "desktop", 1.0, 1.0),  # ev4
        (1, "web", "mobile", 1.0, 1.0),  # ev1
        (8, "app", "tablet", 1.0, 1.0),  # ev11
        (8, "email", "(none)", 1.0, 1.0),  # ev10
        (8, "web", "desktop", 1.0, 1.0),  # ev8
    ]


def test_count_by_month_puts_every_event_in_january(source: DuckDBSource) -> None:
    # app ev2,3,5,6,11; email ev7,10; web ev1,4,8,9 (end Jan 10 still closes the month)
    cube = source.fetch_cube(query("count", "channel", grain="month", start=5))
    assert rows(cube) == [(1, "app", 5.0, 5.0), (1, "email", 2.0, 2.0), (1, "web", 4.0, 4.0)]


def test_sum_adds_the_expression_and_counts_rows(source: DuckDBSource) -> None:
    # Jan 1 premium: ev1 0 + ev2 30 (2 rows), basic: ev3; Jan 2 basic: ev4; Jan 3 premium: 0 + 20
    cube = source.fetch_cube(query("sum", "tier", end=3, expr="amount"))
    assert rows(cube) == [
        (1, "basic", 0.0, 1.0),
        (1, "premium", 30.0, 2.0),
        (2, "basic", 0.0, 1.0),
        (3, "premium", 20.0, 2.0),
    ]


RATIO = {
    "numerator": "CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END",
    "denominator": "1",
}


def test_ratio_sums_row_expressions_and_slices_add_up(source: DuckDBSource) -> None:
    # W1: app ev2,3,5,6 (purchases ev2, ev6), web ev1,4, email ev7
    # W2: web ev8, ev9 (purchase), email ev10, app ev11
    cube = source.fetch_cube(query("ratio", "channel", grain="week", **RATIO))
    assert rows(cube) == [
        (1, "app", 2.0, 4.0),
        (1, "email", 0.0, 1.0),
        (1, "web", 0.0, 2.0),
        (8, "app", 0.0, 1.0),
        (8, "email", 0.0, 1.0),
        (8, "web", 1.0, 2.0),
    ]
    total = series_of(cube, additive=False)
    assert total.value.tolist() == [2 / 7, 1 / 4]  # sum(num) / sum(den) over the slice
    assert series_of(cube, additive=False, segment={"channel": "app"}).value.tolist() == [0.5, 0.0]


def test_returning_looks_back_before_start(source: DuckDBSource) -> None:
    # lookback 6d: returning when the previous active day is in [P - 6d, P).
    # Jan 3: C1, C2 (prev Jan 1); Jan 4: C4 new; Jan 8: C3 prev Jan 2 (= P-6d, in);
    # Jan 9: C1 prev Jan 3 (= P-6d, in); Jan 10: C2 prev Jan 3 (out), C4 prev Jan 4 (in)
    cube = source.fetch_cube(query("returning", "channel", start=3, lookback=6 * DAY))
    assert rows(cube) == [
        (3, "app", 2.0, 2.0),
        (4, "email", 0.0, 1.0),
        (8, "web", 1.0, 1.0),
        (9, "web", 1.0, 1.0),
        (10, "app", 0.0, 1.0),
        (10, "email", 1.0, 1.0),
    ]


def test_returning_by_week_uses_the_first_day_of_the_period(source: DuckDBSource) -> None:
    # W1: nobody was active before Jan 1 (C1's Jan 3 follows its Jan 1: same week, not returning)
    # W2: C3 (Jan 8, prev Jan 2), C1 (Jan 9, prev Jan 3), C2, C4 (Jan 10, prev Jan 3 / Jan 4)
    cube = source.fetch_cube(query("returning", "device", grain="week", lookback=7 * DAY))
    assert rows(cube) == [
        (1, "(none)", 0.0, 1.0),  # C2
        (1, "desktop", 0.0, 1.0),  # C3
        (1, "mobile", 0.0, 2.0),  # C1, C4
        (8, "(none)", 1.0, 1.0),  # C4 on Jan 10
        (8, "desktop", 1.0, 1.0),
        (8, "mobile", 1.0, 1.0),
        (8, "tablet", 1.0, 1.0),  # C2 on Jan 10
    ]


def test_retention_by_day(source: DuckDBSource) -> None:
    # window 6d: retained when active again in [P+1, P+7).
    # Jan 1: C1, C2 back Jan 3; Jan 2: C3 back Jan 8 (< Jan 9); Jan 3: C1 back Jan 9 (< Jan 10),
    # C2 back Jan 10 (not < Jan 10); Jan 4: C4 back Jan 10 (< Jan 11)
    cube = source.fetch_cube(query("retention", "channel", end=4, window=6 * DAY))
    assert rows(cube) == [
        (1, "app", 1.0, 1.0),
        (1, "web", 1.0, 1.0),
        (2, "web", 1.0, 1.0),
        (3, "app", 1.0, 2.0),
        (4, "email", 1.0, 1.0),
    ]


def test_retention_by_week_counts_the_return_after_the_last_active_day(
    source: DuckDBSource,
) -> None:
    # W1 ends Jan 8, window [Jan 8, Jan 15): everyone comes back (C1 after its Jan 3, not Jan 1).
    # Tier from the first active day of the week: C1 premium, C2 basic (Jan 1), C3, C4 basic.
    # W2 is immature (no data after it) but is still returned, all lost.
    cube = source.fetch_cube(query("retention", "tier", grain="week", window=7 * DAY))
    assert rows(cube) == [
        (1, "basic", 3.0, 3.0),
        (1, "premium", 1.0, 1.0),
        (8, "basic", 0.0, 2.0),  # C3, C4
        (8, "premium", 0.0, 2.0),  # C1, C2 (upgraded Jan 3)
    ]


def test_churn_by_day(source: DuckDBSource) -> None:
    # window 3d, period P: population active in [P-5, P-2), lapsed when none in [P-2, P].
    # Jan 5: C1, C2 (Jan 1, back Jan 3: kept), C3 (Jan 2, lapsed); dims of Jan 1 / Jan 2.
    # Jan 6: C1, C2 (Jan 3), C3 (Jan 2) all lapsed.  Jan 7: + C4 (Jan 4), all lapsed.
    # Jan 8: C1, C2 (Jan 3), C4 (Jan 4); C1's Jan 9 is too late.  Jan 9: C4 (back Jan 10).
    cube = source.fetch_cube(query("churn", "channel", start=5, end=9, window=3 * DAY))
    assert rows(cube) == [
        (5, "app", 0.0, 1.0),
        (5, "web", 1.0, 2.0),
        (6, "app", 2.0, 2.0),
        (6, "web", 1.0, 1.0),
        (7, "app", 2.0, 2.0),
        (7, "email", 1.0, 1.0),
        (7, "web", 1.0, 1.0),
        (8, "app", 2.0, 2.0),
        (8, "email", 1.0, 1.0),
        (9, "email", 1.0, 1.0),
    ]


def test_churn_by_week_takes_dimensions_from_the_last_active_day(source: DuckDBSource) -> None:
    # W1 ends Jan 8: population [Dec 25, Jan 1) is empty. W2 ends Jan 15: population
    # [Jan 1, Jan 8) = all four, all active again in [Jan 8, Jan 15): none lapsed.
    # Channel from the last day before Jan 8: C1 Jan 3 app, C2 app, C3 web, C4 email.
    cube = source.fetch_cube(query("churn", "channel", grain="week", window=7 * DAY))
    assert rows(cube) == [(8, "app", 0.0, 2.0), (8, "email", 0.0, 1.0), (8, "web", 0.0, 1.0)]


def test_mix_uses_the_first_active_day_of_the_period(source: DuckDBSource) -> None:
    # W1: C1 premium (web), C2 basic on Jan 1 (app), C3 basic (web), C4 basic (email)
    # W2: C3 basic (web), C1 premium (web), C2 premium (app), C4 basic (email)
    cube = source.fetch_cube(query("mix", "channel", grain="week", category="tier = 'premium'"))
    assert rows(cube) == [
        (1, "app", 0.0, 1.0),
        (1, "email", 0.0, 1.0),
        (1, "web", 1.0, 2.0),
        (8, "app", 1.0, 1.0),
        (8, "email", 0.0, 1.0),
        (8, "web", 1.0, 2.0),
    ]


def test_sql_kind_casts_and_keeps_periods_in_range(source: DuckDBSource) -> None:
    # DATE periods become timestamps; Jan 1: ev1 mobile 0, ev2 desktop 30, ev3 NULL 0
    sql = (
        "SELECT CAST(event_time AS DATE) AS period, device, SUM(amount) AS num,"
        " COUNT(*) AS den FROM events GROUP BY ALL"
    )
    cube = source.fetch_cube(query("sql", "device", end=1, sql=sql))
    assert rows(cube) == [
        (1, "(none)", 0.0, 1.0),
        (1, "desktop", 30.0, 1.0),
        (1, "mobile", 0.0, 1.0),
    ]


def test_top_n_folds_the_rest_into_other(source: DuckDBSource) -> None:
    # rows per channel over both weeks: app 5, web 4, email 2 -> top 1 keeps app.
    # W1: app ev2,3,5,6; other ev1,4 (web), ev7 (email). W2: app ev11; other ev8, ev9, ev10.
    cube = source.fetch_cube(query("count", "channel", grain="week", top_n=1))
    assert rows(cube) == [  # "(other)" sorts before letters
        (1, OTHER, 3.0, 3.0),
        (1, "app", 4.0, 4.0),
        (8, OTHER, 3.0, 3.0),
        (8, "app", 1.0, 1.0),
    ]


KIND_OPTIONS: dict[str, dict[str, object]] = {
    "count": {},
    "sum": {"expr": "amount"},
    "ratio": RATIO,
    "returning": {"lookback": 3 * DAY},
    "retention": {"window": 2 * DAY},
    "churn": {"window": 2 * DAY},
    "mix": {"category": "tier = 'premium'"},
    "sql": {
        "sql": "SELECT event_time AS period, channel, device, amount AS num, 1 AS den FROM events"
    },
}


@pytest.mark.parametrize("kind", KIND_OPTIONS)
def test_leaves_add_up_to_the_total(source: DuckDBSource, kind: str) -> None:
    # each event / entity lands in exactly one leaf, so summing leaves gives the undivided cube
    leaves = source.fetch_cube(query(kind, "channel", "device", **KIND_OPTIONS[kind]))
    total = source.fetch_cube(query(kind, **KIND_OPTIONS[kind]))
    summed = leaves.groupby("period", as_index=False)[["num", "den"]].sum()
    pd.testing.assert_frame_equal(summed, total)
    assert total["den"].sum() > 0


@pytest.mark.parametrize("kind", KIND_OPTIONS)
def test_one_query_returns_only_aggregates_and_compiles_for_postgres(
    source: DuckDBSource, kind: str
) -> None:
    q = query(kind, "channel", "device", grain="week", **KIND_OPTIONS[kind])
    expr = build_cube_expr(source.connection(), q)
    assert isinstance(expr.op(), ops.Sort)
    assert isinstance(expr.op().parent, ops.Aggregate)  # nothing row-level leaves
    assert expr.columns == ("period", "channel", "device", "num", "den")
    sql = ibis.to_sql(expr, dialect="postgres")
    assert "GROUP BY" in sql and "events" in sql


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> tuple[DuckDBSource, pd.DataFrame]:
    """30 customers from Wed 2024-01-03, each visiting 15 times in a 40-day stretch of
    its own within 100 days: each lookback finds previous activity for some and not
    for others, in every grain."""
    rng = np.random.default_rng(7)
    frames = []
    for customer in range(1, 31):
        offset = rng.integers(0, 60) * 24 * 60
        minutes = offset + rng.choice(40 * 24 * 60, size=15, replace=False)  # distinct times
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": customer,
                    "event_time": pd.Timestamp("2024-01-03") + pd.to_timedelta(minutes, "min"),
                    "channel": rng.choice(["web", "app", "store"], size=15),
                }
            )
        )
    events = pd.concat(frames, ignore_index=True)
    path = tmp_path_factory.mktemp("busy") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE events AS SELECT * FROM events")
    src = DuckDBSource(path)
    yield src, events
    src.close()


def returning_by_hand(events: pd.DataFrame, q: CubeQuery) -> pd.DataFrame:
    """The returning cube from its definition, entity by entity and period by period."""
    grain = {"day": "D", "week": "W-SUN", "month": "M"}[q.grain]
    periods = events.event_time.dt.to_period(grain).dt.start_time
    first, end = period_span(q)
    out = []
    for (entity, period), group in events.assign(period=periods).groupby(["customer_id", "period"]):
        if not pd.Timestamp(first) <= period < pd.Timestamp(end):
            continue
        earlier = events[(events.customer_id == entity) & (events.event_time < period)]
        back = (earlier.event_time.dt.floor("D") >= period - q.lookback).any()
        channel = group.sort_values("event_time").channel.iloc[0]
        out.append((period, channel, float(back), 1.0))
    cube = pd.DataFrame(out, columns=["period", "channel", "num", "den"])
    cube = cube.groupby(["period", "channel"], as_index=False)[["num", "den"]].sum()
    return cube.astype({"period": "datetime64[us]"})


@pytest.mark.parametrize(
    ("grain", "days"),
    [("day", 1), ("day", 5), ("week", 7), ("week", 10), ("month", 28), ("month", 45)],
)
def test_returning_matches_its_definition_for_short_and_long_lookbacks(
    busy: tuple[DuckDBSource, pd.DataFrame], grain: str, days: int
) -> None:
    # a lookback within one period reads the period before by a join, a longer one by lag;
    # starting mid-history, the events before the first period count too
    source, events = busy
    q = query("returning", "channel", grain=grain, lookback=days * DAY, source=EVENTS_TABLE)
    q = replace(q, start=date(2024, 2, 14), end=date(2024, 4, 11))
    cube = source.fetch_cube(q)
    expected = returning_by_hand(events, q)
    assert expected["num"].sum() > 0 and (expected["num"] < expected["den"]).any()
    pd.testing.assert_frame_equal(cube.astype({"period": "datetime64[us]"}), expected)
