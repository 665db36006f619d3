"""The demo warehouse: its schema, its determinism, and the incidents planted in it."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from agent.sources.demo import Incident, generate, read_ground_truth, write_ground_truth

END = date(2025, 6, 30)
SMALL = {"end": END, "customers": 3000, "days": 120}
TABLES = ("customers", "events", "nps_responses", "payments")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Incident]]:
    path = tmp_path_factory.mktemp("demo") / "warehouse.duckdb"
    return path, generate(path, **SMALL)


@pytest.fixture
def con(warehouse: tuple[Path, list[Incident]]) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(warehouse[0]), read_only=True)


def onset(warehouse: tuple[Path, list[Incident]], metric: str) -> date:
    return next(i.onset for i in warehouse[1] if i.metric == metric)


def fingerprint(path: Path) -> list[tuple[int, int]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [con.sql(f"SELECT count(*), sum(hash(t)) FROM {t} t").fetchone() for t in TABLES]


def test_tables_and_views_have_the_documented_columns(con: duckdb.DuckDBPyConnection) -> None:
    def columns(name: str) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in con.sql(f"DESCRIBE {name}").fetchall()]

    customers = [("customer_id", "BIGINT"), ("tier", "VARCHAR"), ("region", "VARCHAR")]
    customers += [("acquisition", "VARCHAR"), ("signup_date", "DATE")]
    events = [("event_id", "BIGINT"), ("customer_id", "BIGINT"), ("event_time", "TIMESTAMP")]
    events += [("event_type", "VARCHAR"), ("channel", "VARCHAR"), ("device", "VARCHAR")]
    events += [("amount", "DOUBLE")]
    nps = [("response_id", "BIGINT"), ("customer_id", "BIGINT")]
    nps += [("response_time", "TIMESTAMP"), ("channel", "VARCHAR"), ("score", "INTEGER")]
    nps += [("comment", "VARCHAR")]
    assert columns("customers") == customers
    assert columns("events") == events
    assert columns("nps_responses") == nps
    assert columns("customer_events") == events + customers[1:]
    assert columns("customer_nps") == nps + customers[1:]
    payments = [("payment_id", "BIGINT"), ("payment_time", "TIMESTAMP")]
    payments += [("channel", "VARCHAR"), ("device", "VARCHAR"), ("status", "VARCHAR")]
    assert columns("payments") == payments


def test_values_stay_inside_their_vocabularies(con: duckdb.DuckDBPyConnection) -> None:
    def distinct(sql: str) -> set[object]:
        return {r[0] for r in con.sql(sql).fetchall()}

    assert distinct("SELECT tier FROM customers") == {"premium", "gold", "silver", "basic"}
    assert distinct("SELECT acquisition FROM customers") == {
        "search", "social", "referral", "offline", "partner"
    }  # fmt: skip
    assert len(distinct("SELECT region FROM customers")) == 10
    assert distinct("SELECT channel || '/' || coalesce(device, '-') FROM events") == {
        "web/android", "web/ios", "web/desktop", "app/android", "app/ios", "store/-",
        "call_center/-",
    }  # fmt: skip
    assert distinct("SELECT event_type || ':' || (amount IS NULL) FROM events") == {
        "visit:true", "purchase:false", "support:true"
    }  # fmt: skip
    assert distinct("SELECT score FROM nps_responses") == set(range(11))
    assert distinct("SELECT channel || '/' || device || ':' || status FROM payments") == {
        f"{segment}:{status}"
        for segment in ("web/android", "web/ios", "web/desktop", "app/android", "app/ios")
        for status in ("success", "failed")
    }


def test_data_spans_the_requested_days_in_full(con: duckdb.DuckDBPyConnection) -> None:
    first, last = con.sql(
        "SELECT min(event_time)::DATE, max(event_time)::DATE FROM events"
    ).fetchone()
    assert (first, last) == (END - timedelta(days=119), END)
    last_nps = con.sql("SELECT max(response_time) FROM nps_responses").fetchone()[0]
    assert last_nps.date() <= END
    ids = con.sql("SELECT count(*), count(DISTINCT event_id), max(event_id) FROM events").fetchone()
    assert ids[0] == ids[1] == ids[2]


def test_same_seed_gives_the_same_numbers_and_another_seed_does_not(
    warehouse: tuple[Path, list[Incident]], tmp_path: Path
) -> None:
    again, other = tmp_path / "again.duckdb", tmp_path / "other.duckdb"
    generate(again, **SMALL)
    generate(other, seed=8, **SMALL)
    assert fingerprint(again) == fingerprint(warehouse[0])
    assert all(a != b for a, b in zip(fingerprint(other), fingerprint(again), strict=True))


def test_generate_replaces_an_existing_file_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    path.write_text("not a database")
    generate(path, **SMALL)
    assert fingerprint(path)[0][0] == 3000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]


def test_too_short_a_history_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 90 days"):
        generate(tmp_path / "w.duckdb", end=END, customers=100, days=60)


def test_incidents_start_in_the_last_60_days(warehouse: tuple[Path, list[Incident]]) -> None:
    planted = {(i.metric, i.onset, tuple(i.segment.items())) for i in warehouse[1]}
    assert planted == {
        ("revisit_rate", date(2025, 5, 21), (("channel", "app"), ("device", "android"))),
        ("premium_churn", date(2025, 5, 26), (("region", "Busan"),)),
        ("nps", date(2025, 6, 5), (("channel", "call_center"),)),
        ("conversion", date(2025, 6, 15), (("channel", "web"), ("device", "desktop"))),
        ("payment_success", date(2025, 6, 26), (("channel", "app"), ("device", "ios"))),
    }
    hourly = next(i for i in warehouse[1] if i.metric == "payment_success")
    assert hourly.starts == datetime(2025, 6, 26, 14)  # mid-day


def nps(con: duckdb.DuckDBPyConnection, where: str, start: date, stop: date) -> float:
    sql = f"""SELECT 100 * (count(*) FILTER (score >= 9) - count(*) FILTER (score <= 6))
              / count(*) FROM nps_responses WHERE {where} AND response_time >= ?
              AND response_time < ?"""
    return float(con.execute(sql, [start, stop]).fetchone()[0])


def test_call_center_nps_drops_after_onset_and_other_channels_hold(
    warehouse: tuple[Path, list[Incident]], con: duckdb.DuckDBPyConnection
) -> None:
    day = onset(warehouse, "nps")
    before, after = (day - timedelta(days=28), day), (day, END + timedelta(days=1))
    call = [nps(con, "channel = 'call_center'", *span) for span in (before, after)]
    rest = [nps(con, "channel <> 'call_center'", *span) for span in (before, after)]
    assert call[0] - call[1] > 40
    assert abs(rest[0] - rest[1]) < 15


def revisit(con: duckdb.DuckDBPyConnection, segment: str, start: date, stop: date) -> float:
    """Share of the segment's active customer-days with any activity in the 30 days before."""
    sql = f"""WITH act AS (SELECT DISTINCT customer_id, event_time::DATE AS d, channel, device
                           FROM events),
              seg AS (SELECT DISTINCT customer_id, d FROM act
                      WHERE {segment} AND d >= ? AND d < ?)
              SELECT avg(EXISTS (SELECT 1 FROM act p WHERE p.customer_id = s.customer_id
                                 AND p.d >= s.d - 30 AND p.d < s.d)::INT) FROM seg s"""
    return float(con.execute(sql, [start, stop]).fetchone()[0])


def test_android_app_revisits_drop_after_the_release_and_ios_holds(
    warehouse: tuple[Path, list[Incident]], con: duckdb.DuckDBPyConnection
) -> None:
    day = onset(warehouse, "revisit_rate")
    before, after = (day - timedelta(days=14), day), (END - timedelta(days=13), END)
    android = [revisit(con, "channel = 'app' AND device = 'android'", *s) for s in (before, after)]
    ios = [revisit(con, "channel = 'app' AND device = 'ios'", *s) for s in (before, after)]
    # 3,000 customers: a few hundred Android app users, so a few points of noise.
    assert android[0] - android[1] > 0.03
    assert android[0] - android[1] > 2 * abs(ios[0] - ios[1])


def conversion(con: duckdb.DuckDBPyConnection, segment: str, start: date, stop: date) -> float:
    sql = f"""SELECT count(*) FILTER (event_type = 'purchase')
                     / count(*) FILTER (event_type = 'visit')
              FROM events WHERE {segment} AND event_time >= ? AND event_time < ?"""
    return float(con.execute(sql, [start, stop]).fetchone()[0])


def success(con: duckdb.DuckDBPyConnection, segment: str, start: datetime, stop: datetime) -> float:
    sql = f"""SELECT avg((status = 'success')::INT) FROM payments
              WHERE {segment} AND payment_time >= ? AND payment_time < ?"""
    return float(con.execute(sql, [start, stop]).fetchone()[0])


def test_ios_app_payments_fail_from_the_onset_hour_and_the_others_hold(
    warehouse: tuple[Path, list[Incident]], con: duckdb.DuckDBPyConnection
) -> None:
    starts = next(i.starts for i in warehouse[1] if i.metric == "payment_success")
    hour, week = timedelta(hours=1), timedelta(days=7)
    ios, web = "channel = 'app' AND device = 'ios'", "channel = 'web' AND device = 'desktop'"
    assert success(con, ios, starts - week, starts) > 0.94
    assert success(con, ios, starts - 2 * hour, starts) > 0.9  # up to the onset hour
    assert success(con, ios, starts, starts + 6 * hour) < 0.65
    assert success(con, web, starts, starts + 6 * hour) > 0.94
    assert success(con, ios, starts + 24 * hour, starts + 48 * hour) > 0.94  # fixed


def test_desktop_web_conversion_halves_and_ios_app_holds(
    warehouse: tuple[Path, list[Incident]], con: duckdb.DuckDBPyConnection
) -> None:
    day = onset(warehouse, "conversion")
    spans = (day - timedelta(days=28), day), (day, END + timedelta(days=1))
    web = [conversion(con, "channel = 'web' AND device = 'desktop'", *s) for s in spans]
    ios = [conversion(con, "channel = 'app' AND device = 'ios'", *s) for s in spans]
    assert web[1] / web[0] < 0.65
    assert 0.85 < ios[1] / ios[0] < 1.15


def test_busan_premium_customers_lapse_after_the_store_closure(
    warehouse: tuple[Path, list[Incident]], con: duckdb.DuckDBPyConnection
) -> None:
    day = onset(warehouse, "premium_churn")
    sql = """SELECT region = 'Busan', avg((NOT EXISTS (SELECT 1 FROM events e
                 WHERE e.customer_id = c.customer_id AND e.event_time >= ?))::INT)
             FROM customers c WHERE tier = 'premium' AND EXISTS (SELECT 1 FROM events e
                 WHERE e.customer_id = c.customer_id AND e.event_time >= ? AND e.event_time < ?)
             GROUP BY ALL"""
    lapsed = dict(con.execute(sql, [END - timedelta(days=13), day - timedelta(28), day]).fetchall())
    assert lapsed[True] >= 0.5
    assert lapsed[False] < 0.2


def test_call_center_comments_turn_to_waiting_during_its_incident(
    warehouse: tuple[Path, list[Incident]], con: duckdb.DuckDBPyConnection
) -> None:
    incident = next(i for i in warehouse[1] if i.metric == "nps")
    assert incident.theme is not None
    words = " OR ".join(f"comment ILIKE '%{w}%'" for w in incident.theme["words"])  # type: ignore[union-attr]
    sql = f"""SELECT channel = 'call_center', response_time >= ?, avg(({words})::INT),
                     count(*), count(comment)
              FROM nps_responses WHERE response_time >= ? GROUP BY ALL"""
    day = incident.onset
    rows = con.execute(sql, [day, day - timedelta(days=28)]).fetchall()
    share = {(call, after): waiting for call, after, waiting, _, _ in rows}
    assert share[True, True] > 0.45 > 0.15 > share[True, False]
    assert share[False, True] < 0.1 and share[False, False] < 0.1
    answered = sum(r[4] for r in rows) / sum(r[3] for r in rows)
    assert 0.55 < answered < 0.75  # a third of the responses leave no comment


def test_ground_truth_round_trips_through_json(
    warehouse: tuple[Path, list[Incident]], tmp_path: Path
) -> None:
    path = tmp_path / "truth.json"
    write_ground_truth(warehouse[1], path)
    assert read_ground_truth(path) == warehouse[1]
    first = json.loads(path.read_text(encoding="utf-8"))[0]
    assert first == {
        "what": "Android app release cuts revisits",
        "metric": "revisit_rate",
        "onset": "2025-05-21",
        "segment": {"channel": "app", "device": "android"},
        "visible": "2025-05-21",
        "theme": None,
        "hour": None,
    }
    churn = next(i for i in warehouse[1] if i.metric == "premium_churn")
    assert churn.visible == churn.onset + timedelta(days=14)  # a whole churn window later
