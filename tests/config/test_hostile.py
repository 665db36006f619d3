"""metrics.yaml written to hang, crash or abuse ``validate``: each one is exit 3 at its line.

The files are the reproductions of a review that tried them as an attacker would;
``validate`` runs in this process (tests.config.inprocess) as the CLI runs it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.config.inprocess import validate
from tests.config.test_load import GOOD
from tests.conftest import cx_agent

HEAD = """\
version: 1
warehouse: duckdb:///w.duckdb
sources:
  visits: {table: events, time: event_time, entity: customer_id}
"""
"""Lines 1-4 of every file below; metrics start on line 5."""


def refused(tmp_path: Path, text: str | bytes) -> list[str]:
    """The lines ``validate`` printed for the file, which must have been refused (exit 3)."""
    path = tmp_path / "metrics.yaml"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    result = validate(path)
    assert result.code == 3, result
    assert "Traceback" not in result.err and "internal error" not in result.err
    return [line.replace(str(path), "metrics.yaml") for line in result.err.splitlines()]


def test_a_second_key_of_the_same_name_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    text = HEAD + "metrics:\n  nps: {title: A, source: visits, kind: count}\n"
    text += "  nps: {title: B, source: visits, kind: count}\n"
    assert refused(tmp_path, text) == [
        "metrics.yaml:7: key 'nps' is defined twice, on lines 6 and 7"
        " — keep one of them: YAML would silently use the last"
    ]


def test_an_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    started = time.monotonic()
    problems = refused(tmp_path, HEAD + "\n".join(lines) + "\nmetrics: *a9\n")
    assert time.monotonic() - started < 5  # 9 levels: 387 million values once expanded
    assert problems == [
        "metrics.yaml: its aliases expand it to more than 200,000 values"
        " — use fewer or smaller aliases (*name); write the repeated parts out"
    ]


def test_an_alias_inside_its_own_anchor_is_refused_at_its_line(tmp_path: Path) -> None:
    text = HEAD + "metrics:\n  nps: &loop\n    title: *loop\n"
    assert refused(tmp_path, text) == [
        "metrics.yaml:7: alias *loop refers to the value it is inside of"
        " — a value cannot contain itself; copy the part you need"
    ]


@pytest.mark.parametrize("style", ["flow", "block"])
def test_deep_nesting_is_refused_at_its_line(tmp_path: Path, style: str) -> None:
    if style == "flow":
        deep = "[" * 20_000 + "]" * 20_000
    else:
        deep = "\n" + "".join(f"{' ' * (i + 1)}k{i}:\n" for i in range(1_000))
    (problem,) = refused(tmp_path, HEAD + f"metrics: {deep}\n")
    line = 5 if style == "flow" else 36  # flow: 20,000 levels on line 5; block: level 33
    assert problem.startswith(f"metrics.yaml:{line}: ")
    assert "nest" in problem


def test_a_file_that_is_not_utf8_is_refused_at_its_line_without_being_echoed(
    tmp_path: Path,
) -> None:
    text = (HEAD + "metrics:\n  nps:\n    title: Net Promoter Scoré\n").encode("latin-1")
    problems = refused(tmp_path, text)
    assert problems == ["metrics.yaml:7: byte 0xe9 is not UTF-8 text — save metrics.yaml as UTF-8"]


def test_a_nul_character_is_refused_at_its_line(tmp_path: Path) -> None:
    text = HEAD + "metrics:\n  nps:\n    title: 'Net\x00Promoter'\n"
    assert refused(tmp_path, text) == [
        "metrics.yaml:7: character U+0000 is not allowed in YAML"
        " — remove it, or write it as an escape inside double quotes"
    ]


def test_durations_too_long_for_a_calendar_are_refused_at_their_lines(tmp_path: Path) -> None:
    text = GOOD.replace(
        "lookback: 30 days", "lookback: 99999999999999999999d\n    history: 100000000d"
    )
    assert refused(tmp_path, text) == [
        "metrics.yaml:11: revisit_rate: metrics.revisit_rate.lookback:"
        " '99999999999999999999d' is longer than 3660 days; write a shorter one",
        "metrics.yaml:12: revisit_rate: metrics.revisit_rate.history:"
        " '100000000d' is longer than 3660 days; write a shorter one",
    ]


def test_limits_that_are_not_finite_numbers_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("{below: 0.35}", "{below: .nan, above: .inf}")
    text += "    top_n: 1.0e+400\n"
    assert refused(tmp_path, text) == [
        "metrics.yaml:14: revisit_rate: metrics.revisit_rate.detect.threshold.above:"
        " inf is not a number a limit can be — write a finite number, e.g. 0.35",
        "metrics.yaml:14: revisit_rate: metrics.revisit_rate.detect.threshold.below:"
        " nan is not a number a limit can be — write a finite number, e.g. 0.35",
        "metrics.yaml:15: revisit_rate: metrics.revisit_rate.top_n:"
        " inf is not a number a limit can be — write a finite number, e.g. 0.35",
    ]


def test_a_huge_number_is_refused_at_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("{below: 0.35}", "{below: 1" + "0" * 400 + "}")
    assert refused(tmp_path, text) == [
        "metrics.yaml:14: revisit_rate: metrics.revisit_rate.detect.threshold.below:"
        " the number is too large (at most 1e+15) — write a smaller number"
    ]


def test_a_metric_name_that_is_a_path_is_refused(tmp_path: Path) -> None:
    text = HEAD + "metrics:\n  ../../x: {title: X, source: visits, kind: count}\n"
    (problem,) = refused(tmp_path, text)
    assert problem.startswith("metrics.yaml:6: ../../x: ")
    assert "metric name '../../x' is not an identifier" in problem


def test_a_metric_called_yes_is_the_text_yes_and_its_problems_are_at_its_lines(
    tmp_path: Path,
) -> None:
    text = HEAD + "metrics:\n  nps: {title: NPS, source: visits, kind: count}\n"
    text += "  yes:\n    title: Said yes\n    source: visits\n    kind: count\n    grain: dayly\n"
    assert refused(tmp_path, text) == [
        "metrics.yaml:11: yes: metrics.yes.grain: 'dayly' is not allowed"
        " — use one of 'hour', 'day', 'week' or 'month'"
    ]


def test_a_file_over_a_megabyte_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    text = HEAD + "metrics: {}\n" + "# padding\n" * 100_000
    assert refused(tmp_path, text) == [
        f"metrics.yaml: the file is {len(text):,} bytes; metrics.yaml may be at most 1,000,000"
        " — split long playbooks or SQL into fewer lines, or remove unused metrics"
    ]


def test_a_date_that_does_not_exist_is_refused_at_its_line(tmp_path: Path) -> None:
    text = HEAD + "metrics: {}\nevents:\n  - {name: Launch, start: 2026-13-45}\n"
    assert refused(tmp_path, text) == [
        "metrics.yaml:7: timestamp value cannot be read (month must be in 1..12)"
        " — quote it to keep it as text, or correct it"
    ]


def test_sql_that_would_run_a_statement_or_read_a_file_is_refused_by_validate(
    tmp_path: Path,
) -> None:
    """The two injections of the review, as a user at a shell runs validate."""
    text = HEAD.replace(
        "entity: customer_id}",
        'entity: customer_id,\n            filter: "1=1) ; CREATE TABLE pwned (x INT); --"}',
    )
    text += "metrics:\n  leak:\n    title: Leak\n    source: visits\n    kind: ratio\n"
    text += "    numerator: \"(SELECT count(*) FROM read_csv('/etc/passwd', header=false))\"\n"
    text += "    denominator: '1'\n"
    (tmp_path / "metrics.yaml").write_text(text, encoding="utf-8")
    result = cx_agent("validate", cwd=tmp_path)
    assert result.code == 3 and "Traceback" not in result.err
    assert result.err.splitlines() == [
        "metrics.yaml:5: sources.visits.filter: holds a `;`, which would start a second"
        " statement — write one SQL expression over the source's columns; metrics.yaml holds"
        " expressions, not statements",
        "metrics.yaml:11: leak: metrics.leak.numerator: holds a subquery; a row expression"
        " reads only the row's own columns — write an expression such as CASE WHEN"
        " event_type = 'purchase' THEN 1 ELSE 0 END",
    ]


def test_limits_written_as_text_that_read_as_nan_or_infinity_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("{below: 0.35}", '{below: "nan", change: {max: "inf%"}}')
    assert refused(tmp_path, text) == [
        "metrics.yaml:14: revisit_rate: metrics.revisit_rate.detect.threshold.below:"
        " nan is not a number a limit can be — write a finite number, e.g. 0.35",
        "metrics.yaml:14: revisit_rate: metrics.revisit_rate.detect.threshold.change.max:"
        " inf is not a number a limit can be — write a finite number, e.g. 0.35",
    ]
