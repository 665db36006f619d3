"""metrics.yaml loading: every problem reported at once, with file:line, metric and fix."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from agent.config import load_config
from agent.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
version: 1
timezone: Asia/Seoul
warehouse: duckdb:///w.duckdb
sources:
  visits: {table: events, time: event_time, entity: customer_id}
metrics:
  revisit_rate:
    title: Revisit rate
    source: visits
    kind: returning
    lookback: 30 days
    dimensions: [channel]
    detect:
      threshold: {below: 0.35}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "metrics.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    return [
        line.replace(str(tmp_path / "metrics.yaml"), "metrics.yaml") for line in err.value.lines()
    ]


def test_repo_metrics_yaml_is_valid() -> None:
    config = load_config(REPO / "metrics.yaml")
    kinds = {m.kind for m in config.metrics.values()}
    assert {"returning", "churn", "ratio", "mix"} <= kinds


def test_good_file_loads_with_durations_and_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    metric = config.metrics["revisit_rate"]
    assert metric.lookback == timedelta(days=30)
    assert metric.grain == "day"
    assert metric.display_unit == "percent"
    assert metric.detect.threshold.below == 0.35


def test_five_mistakes_give_five_precise_messages(tmp_path: Path) -> None:
    text = (
        GOOD.replace("kind: returning", "kind: returning\n    grain: daily")
        .replace("lookback: 30 days", "lookback: 30 dys")
        .replace("dimensions: [channel]", "dimensions: [channel]\n    dimensons: [tier]")
        .replace("threshold: {below: 0.35}", "threshhold: {below: 0.35}")
        .replace("timezone: Asia/Seoul", "timezone: Asia/Busan")
    )
    assert problems(tmp_path, text) == [
        "metrics.yaml:2: timezone: unknown timezone 'Asia/Busan'; use an IANA name like Asia/Seoul",
        "metrics.yaml:11: revisit_rate: metrics.revisit_rate.grain: 'daily' is not allowed"
        " — use one of 'hour', 'day', 'week' or 'month'",
        "metrics.yaml:12: revisit_rate: metrics.revisit_rate.lookback: '30 dys' is not a duration;"
        " write e.g. 30d, 30 days or P30D",
        "metrics.yaml:14: revisit_rate: metrics.revisit_rate.dimensons: unknown key"
        " — did you mean `dimensions`?",
        "metrics.yaml:16: revisit_rate: metrics.revisit_rate.detect.threshhold: unknown key"
        " — did you mean `threshold`?",
    ]


def test_kind_fields_and_references_are_checked_together(tmp_path: Path) -> None:
    text = (
        GOOD.replace("lookback: 30 days", "window: 14d")
        + """\
  aov:
    title: AOV
    source: orders
    kind: ratio
    numerator: amount
"""
    )
    assert problems(tmp_path, text) == [
        "metrics.yaml:10: revisit_rate: metrics.revisit_rate.kind: kind returning needs `lookback`"
        " — add `lookback:` to the metric",
        "metrics.yaml:11: revisit_rate: metrics.revisit_rate.window: `window` is not used by kind"
        " returning — remove it, or use kind churn or retention",
        "metrics.yaml:17: aov: metrics.aov.source: source 'orders' is not defined"
        " — define it under `sources:` (defined: visits)",
        "metrics.yaml:18: aov: metrics.aov.kind: kind ratio needs `denominator`"
        " — add `denominator:` to the metric",
    ]


def test_entity_kind_needs_entity_column(tmp_path: Path) -> None:
    text = GOOD.replace(", entity: customer_id", "")
    assert problems(tmp_path, text) == [
        "metrics.yaml:10: revisit_rate: metrics.revisit_rate.kind: kind returning counts customers"
        " — add `entity:` (the customer id column) to source 'visits'",
    ]


def test_missing_env_variable_names_its_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CX_TEST_WAREHOUSE", raising=False)
    text = GOOD.replace("duckdb:///w.duckdb", "${CX_TEST_WAREHOUSE}")
    assert problems(tmp_path, text) == [
        "metrics.yaml:3: warehouse: environment variable CX_TEST_WAREHOUSE is not set"
        " — export CX_TEST_WAREHOUSE=... before running cx-agent",
    ]
    monkeypatch.setenv("CX_TEST_WAREHOUSE", "duckdb:///other.duckdb")
    assert load_config(write(tmp_path, text)).warehouse == "duckdb:///other.duckdb"


@pytest.mark.parametrize(
    ("url", "read"),
    [
        ("postgres://cx:${PW}@db:5432/a", "postgres://cx:p%40ss%3Aw%2Frd%231%25@db:5432/a"),
        ("postgres://${USR}:${PW}@${HOST}/a", "postgres://c%40x:p%40ss%3Aw%2Frd%231%25@db:1/a"),
        ("postgres://db:5432/a?user=${USR}", "postgres://db:5432/a?user=c@x"),
        ("${WHOLE}", "postgres://u:p@w@db/a"),
    ],
    ids=["password", "user, password and host", "query", "a whole URL"],
)
def test_variables_in_url_credentials_are_percent_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, read: str
) -> None:
    """Any password works through a variable; the rest of a URL is taken as it is."""
    for name, value in [("PW", "p@ss:w/rd#1%"), ("USR", "c@x"), ("HOST", "db:1")]:
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WHOLE", "postgres://u:p@w@db/a")
    assert load_config(write(tmp_path, GOOD.replace("duckdb:///w.duckdb", url))).warehouse == read


def test_unknown_detector_lists_the_valid_ones(tmp_path: Path) -> None:
    text = GOOD.replace("threshold: {below: 0.35}", "zscore: {}")
    (line,) = problems(tmp_path, text)
    assert line.startswith(
        "metrics.yaml:14: revisit_rate: metrics.revisit_rate.detect.zscore:"
        " unknown key — valid keys here: anomaly, change_point, threshold"
    )


def test_threshold_needs_a_rule(tmp_path: Path) -> None:
    text = GOOD.replace("threshold: {below: 0.35}", "threshold: {}")
    assert problems(tmp_path, text) == [
        "metrics.yaml:14: revisit_rate: metrics.revisit_rate.detect.threshold:"
        " threshold needs a rule — add one or more of `below`, `above`,"
        " `change: {max: 15%, against: previous}` or `target`",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nmetrics: [\n", "metrics.yaml:3: not valid YAML"),
        ("- just\n- a list\n", "metrics.yaml:1: the file must be a mapping"),
    ],
)
def test_broken_yaml_is_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    (line,) = problems(tmp_path, text)
    assert line.startswith(expected)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "nope.yaml")
    assert err.value.lines() == [
        f"{tmp_path / 'nope.yaml'}: cannot read: No such file or directory"
        " — pass the right file with -c PATH"
    ]


def test_events_name_metrics_and_dimensions_that_exist(tmp_path: Path) -> None:
    text = GOOD + textwrap.dedent("""\
        events:
          - {name: App release, start: 2026-10-11, metrics: [revisit_rat], segment: {devise: a}}
          - {name: Sale, start: 2026-10-11, end: 2026-10-01}
        """)
    assert problems(tmp_path, text) == [
        "metrics.yaml:16: events.0.metrics.0: metric 'revisit_rat' is not defined"
        " — did you mean 'revisit_rate'?",
        "metrics.yaml:16: events.0.segment.devise: no metric is sliced by 'devise'"
        " — use one of the metrics' dimensions: channel",
        "metrics.yaml:17: events.1: event ends (2026-10-01) before it starts (2026-10-11)",
    ]


def test_events_can_live_in_a_warehouse_table(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD + "events: {table: known_events}\n"))
    assert config.events.table == "known_events"  # type: ignore[union-attr]


def test_an_hourly_metric_of_a_kind_that_follows_customers_over_days_is_refused(
    tmp_path: Path,
) -> None:
    assert problems(
        tmp_path, GOOD.replace("kind: returning", "kind: returning\n    grain: hour")
    ) == [
        "metrics.yaml:11: revisit_rate: metrics.revisit_rate.grain: kind returning follows"
        " customers over whole days, not hours — use `grain: day` (or week, month) for this metric",
    ]
    hourly = GOOD.replace("kind: returning\n    lookback: 30 days", "kind: count\n    grain: hour")
    assert load_config(write(tmp_path, hourly)).metrics["revisit_rate"].grain == "hour"
