"""metrics.yaml's SQL is parsed and checked; the query sent is generated from the parse."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from agent.sources import DuckDBSource
from agent.sources.fragments import FragmentError, parse_expression, parse_query, parse_table
from tests.sources.test_duckdb_source import VISITS, count_query, make_warehouse

REFUSED_EXPRESSIONS = {
    "1=1) ; CREATE TABLE pwned (x INT); --": "holds a `;`, which would start a second statement",
    "tier = 'premium'; DROP TABLE events": "holds a `;`",
    "(SELECT count(*) FROM read_csv('/etc/passwd', header=false))": "holds a subquery",
    "customer_id IN (SELECT customer_id FROM vip)": "holds a subquery",
    "EXISTS (SELECT 1)": "holds a subquery",
    "read_csv('/etc/passwd')": "calls READ_CSV(), which reads outside",
    "length(read_text('/etc/passwd')) > 0": "calls read_text(), which reads outside",
    "getenv('HOME') IS NOT NULL": "calls getenv(), which reads outside",
    "sum(amount)": "holds an aggregate",
    "row_number() OVER ()": "holds a window function",
    "*": "holds `*`",
    "amount > ?": "holds a parameter placeholder",
    "event_type = ": "is not one SQL expression over the source's columns",
    "event_type = 'visit": "is not one SQL expression over the source's columns",
    "event_type AS kind": "is not one SQL expression over the source's columns",
    "": "is empty",
    "(" * 5_000 + "1" + ")" * 5_000: "it nests too deeply",
}


@pytest.mark.parametrize("text", list(REFUSED_EXPRESSIONS), ids=range(len(REFUSED_EXPRESSIONS)))
def test_a_row_expression_that_is_not_one_is_refused_with_its_reason(text: str) -> None:
    with pytest.raises(FragmentError, match=re.escape(REFUSED_EXPRESSIONS[text])):
        parse_expression(text, "duckdb")


@pytest.mark.parametrize(
    "text",
    [
        "CASE WHEN event_type = 'purchase' THEN amount ELSE 0 END",
        "note <> 'a;b'",  # a `;` inside a string is text
        "event_type = 'visit' -- a comment",
        "date_diff('day', signup_date, event_time) <= 30",
        "tier IN ('gold', 'premium') AND NOT is_test",
    ],
)
def test_ordinary_row_expressions_are_accepted(text: str) -> None:
    parse_expression(text, "duckdb")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("SELECT * FROM '/etc/passwd'", "is not a table name"),
        ("SELECT * FROM read_csv('/etc/passwd')", "is not a table name"),
        ("SELECT * FROM glob('/home/*')", "is not a table name"),
        ("SELECT 1 AS period; SELECT 2", "holds a `;`"),
        ("DELETE FROM events", "is a DELETE statement, not a SELECT"),
        ("COPY events TO '/tmp/x.csv'", "not a SELECT"),
        ("SELECT getenv('HOME') AS period", "calls getenv()"),
    ],
)
def test_a_query_must_be_one_select_reading_tables_by_name(text: str, reason: str) -> None:
    with pytest.raises(FragmentError, match=re.escape(reason)):
        parse_query(text, "duckdb")


def test_a_query_may_join_and_nest_tables_by_name() -> None:
    parse_query(
        "WITH v AS (SELECT * FROM analytics.events) SELECT date_trunc('day', event_time) AS"
        " period, count(*) AS num, 1 AS den FROM v JOIN customers USING (customer_id) GROUP BY 1",
        "duckdb",
    )


@pytest.mark.parametrize("text", ["events; DROP TABLE x", "events e", "read_csv('x.csv')", "a b"])
def test_a_table_is_a_name(text: str) -> None:
    with pytest.raises(FragmentError):
        parse_table(text, "duckdb")
    assert parse_table("analytics.events", "duckdb").name == "events"


def test_the_query_sent_is_generated_from_the_parsed_filter(tmp_path: Path) -> None:
    """A comment cannot swallow the rest of the query: the filter is generated again,
    without it, inside parentheses of the generator's own."""
    warehouse = make_warehouse(tmp_path / "wh.duckdb")
    commented = replace(VISITS, filter="event_type = 'visit' -- and the rest is comment")
    with DuckDBSource(warehouse) as source:
        cube = source.fetch_cube(count_query(commented))
        assert cube["num"].sum() == 2.0  # the two visits, not the purchase
        assert source.data_bounds(commented)[1] is not None
