"""fetch_texts: only the text column of the segment's rows in the two windows, capped."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from agent.errors import SourceError
from agent.sources import DuckDBSource, TableRef
from agent.sources.texts import TextQuery

ROWS = [  # time, channel, region, comment
    ("2026-10-01 09:00", "call_center", "Busan", "old complaint"),
    ("2026-10-20 09:00", "call_center", "Busan", "before one"),
    ("2026-10-21 09:00", "call_center", "Busan", "before two"),
    ("2026-10-22 09:00", "call_center", "Seoul", "another region"),
    ("2026-10-23 09:00", "web", "Busan", "another channel"),
    ("2026-10-26 10:00", "call_center", "Busan", "after one"),
    ("2026-10-27 10:00", "call_center", "Busan", "after two"),
    ("2026-10-28 10:00", "call_center", "Busan", "after three"),
    ("2026-10-28 11:00", "call_center", "Busan", None),
    ("2026-10-28 12:00", "call_center", "Busan", "   "),
    ("2026-11-02 10:00", "call_center", "Busan", "too late"),
]
BEFORE = (datetime(2026, 10, 12), datetime(2026, 10, 26))
AFTER = (datetime(2026, 10, 26), datetime(2026, 11, 1))


@pytest.fixture
def source(tmp_path: Path) -> DuckDBSource:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE nps (response_time TIMESTAMP, channel VARCHAR, region VARCHAR, "
            "comment VARCHAR, score INT, phone VARCHAR)"
        )
        con.executemany(
            "INSERT INTO nps VALUES (?, ?, ?, ?, 3, '010-1234-5678')", [list(r) for r in ROWS]
        )
    return DuckDBSource(f"duckdb:///{path}", base_dir=tmp_path)


def query(cap: int = 100, text: str = "comment", **segment: str) -> TextQuery:
    ref = TableRef(name="nps", table="nps", time="response_time", filter="score < 7")
    return TextQuery("nps", ref, text, segment, BEFORE, AFTER, cap)


def test_the_segments_comments_in_each_window_newest_first(source: DuckDBSource) -> None:
    texts = source.fetch_texts(query(channel="call_center", region="Busan"))
    assert texts.before == ["before two", "before one"]
    assert texts.after == ["after three", "after two", "after one"]
    assert (texts.total_before, texts.total_after) == (2, 3)


def test_the_cap_keeps_the_newest_and_the_totals_say_how_many(source: DuckDBSource) -> None:
    texts = source.fetch_texts(query(cap=1, channel="call_center"))
    assert texts.before == ["another region"]
    assert texts.after == ["after three"]
    assert (texts.total_before, texts.total_after) == (3, 3)


def test_a_missing_column_is_a_source_error_naming_it(source: DuckDBSource) -> None:
    with pytest.raises(SourceError, match="no column 'device'"):
        source.fetch_texts(query(device="android"))
    with pytest.raises(SourceError, match="no column 'remark'"):
        source.fetch_texts(query(text="remark"))
