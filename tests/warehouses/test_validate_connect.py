"""``cx-agent validate --connect``: the warehouse answers, and has what metrics.yaml names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import cx_agent
from tests.warehouses.conftest import _free_port

METRICS = """\
version: 1
warehouse: {warehouse}
events: {{table: known_events}}
sources:
  activity:
    table: customer_events
    time: event_time
    entity: customer_id
  visits:
    table: customer_events
    time: event_time
    filter: "event_type = 'visit'"
  survey:
    table: customer_nps
    time: response_time
    text: comment
metrics:
  conversion:
    title: Conversion
    source: activity
    kind: ratio
    numerator: "CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END"
    denominator: "CASE WHEN event_type = 'visit' THEN 1 ELSE 0 END"
    dimensions: [channel, device]
  revisit_rate:
    title: Revisit rate
    source: activity
    kind: returning
    lookback: 7d
    dimensions: [tier]
  visits:
    title: Visits
    source: visits
    kind: count
  nps:
    title: NPS
    source: survey
    kind: ratio
    numerator: "CASE WHEN score >= 9 THEN 100 WHEN score <= 6 THEN -100 ELSE 0 END"
    denominator: "1"
"""
BROKEN = {
    "table: customer_events\n    time: event_time\n    filter": (
        "table: customer_event\n    time: event_time\n    filter"
    ),
    "dimensions: [channel, device]": "dimensions: [channel, devise]",
    'THEN 1 ELSE 0 END"\n    denominator': 'THEN qty ELSE 0 END"\n    denominator',
    "dimensions: [tier]": "dimensions: [tier, segment]",
    "entity: customer_id": "entity: customer",
    "text: comment": "text: comments",
}


def _write(tmp_path: Path, warehouse: str, text: str = METRICS) -> Path:
    path = tmp_path / "metrics.yaml"
    path.write_text(text.format(warehouse=warehouse), encoding="utf-8")
    return path


def _line(path: Path, text: str) -> int:
    """The line number of the first line that is ``text`` (or, failing that, contains it)."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    return 1 + (
        lines.index(text) if text in lines else next(i for i, ln in enumerate(lines) if text in ln)
    )


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_a_warehouse_with_every_table_and_column_passes(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("demo_duckdb" if engine == "duckdb" else "postgres_demo")
    _write(tmp_path, url)
    done = cx_agent("validate", "--connect", cwd=tmp_path)
    assert done.code == 0, done.err
    assert f"warehouse ({engine}): reachable; every table and column found" in done.out


def test_each_missing_table_or_column_is_reported_at_its_line(
    demo_duckdb: Path, tmp_path: Path
) -> None:
    text = METRICS
    for old, new in BROKEN.items():
        assert text.count(old) == 1
        text = text.replace(old, new)
    path = _write(tmp_path, str(demo_duckdb), text)
    done = cx_agent("validate", "--connect", cwd=tmp_path)
    assert done.code == 3
    errors = done.err.splitlines()
    keys = (
        "entity: customer",
        "table: customer_event",
        "text: comments",
        "devise",
        "qty",
        "segment",
    )
    at = {key: _line(path, key) for key in keys}
    assert errors[0] == (
        f"metrics.yaml:{at['entity: customer']}: sources.activity.entity: "
        "column 'customer' is not in customer_events — did you mean 'customer_id'?"
    )
    assert errors[1] == (
        f"metrics.yaml:{at['table: customer_event']}: sources.visits.table: "
        "table customer_event not found in warehouse.duckdb — did you mean customer_events?"
    )
    assert errors[2] == (
        f"metrics.yaml:{at['text: comments']}: sources.survey.text: "
        "column 'comments' is not in customer_nps — did you mean 'comment'?"
    )
    errors.pop(2)
    assert errors[2].startswith(
        f"metrics.yaml:{at['qty']}: conversion: metrics.conversion.numerator: "
        "does not run on the warehouse:"
    )
    assert "qty" in errors[2]
    assert errors[3] == (
        f"metrics.yaml:{at['devise']}: conversion: metrics.conversion.dimensions.1: "
        "column 'devise' is not in customer_events — did you mean 'device'?"
    )
    assert errors[4].startswith(
        f"metrics.yaml:{at['segment']}: revisit_rate: metrics.revisit_rate.dimensions.1: "
        "column 'segment' is not in customer_events"
    )
    assert len(errors) == 5


def test_an_unreachable_warehouse_is_a_runtime_error(tmp_path: Path) -> None:
    port = _free_port()
    _write(tmp_path, f"postgres://cx:hunter2@127.0.0.1:{port}/cx")
    done = cx_agent("validate", "--connect", cwd=tmp_path)
    assert done.code == 4
    assert done.err == (
        "while checking the connection: could not reach the warehouse at "
        f"127.0.0.1:{port} (connection refused)\n"
    )
