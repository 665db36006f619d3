"""Fuzzing ``validate``: a thousand malformed metrics.yaml files, each exit 0 or 3 in time.

Three kinds of damage, drawn by hypothesis: a valid file edited line by line with
hostile snippets (aliases, anchors, brackets, tabs, tags, huge numbers, SQL
statements…), the same file's data with values replaced by random ones at random
places, and random bytes. Whatever the file, ``validate`` must answer with exit 0
(valid) or 3 (each problem on one line), within 5 seconds, never with a traceback or
an "internal error".
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.config.inprocess import validate

BASE = """\
version: 1
timezone: Asia/Seoul
locale: ko
warehouse: duckdb:///w.duckdb
reports: {dir: reports, base_url: null}
channels:
  cx-slack: {type: slack, channel: "#cx", token: xoxb-test}
  log: {type: files, dir: outbox}
sources:
  activity: {table: events, time: event_time, entity: customer_id}
  premium:
    table: analytics.events
    time: event_time
    entity: customer_id
    filter: "tier = 'premium'"
    freshness: {wait: 2h, retry: 15m, query: "SELECT max(loaded_at) FROM etl_runs"}
metrics:
  conversion:
    title: Conversion
    source: activity
    kind: ratio
    numerator: "CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END"
    denominator: "CASE WHEN event_type = 'visit' THEN 1 ELSE 0 END"
    dimensions: [channel, device]
    detect:
      threshold: {below: 0.02, change: {max: 15%, against: same_weekday}}
      anomaly: {sensitivity: medium}
      change_point: {min_shift: 0.01, recent: 7}
    alert: {min_periods: 1, recover_after: 3}
    notify: [cx-slack, log]
    renotify: {worse_by: 0.5, remind_every: 7d}
  churn:
    title: Premium churn
    source: premium
    kind: churn
    window: 28d
    grain: week
    good: down
    history: 180d
    schedule: "0 9 * * 1"
    playbook:
      - text: "{{ metric.title }} moved {{ finding.change }}."
      - when: {dimension: region}
        text: Call {{ cause.segment }}.
        links: [{title: Calendar, url: "https://example.com"}]
events:
  - {name: Release, start: 2026-10-11, kind: release, segment: {channel: app}}
"""

SNIPPETS = [
    "&a", "*a", "&a {x: *a}", "<<: *a", "[", "]", "{", "}", "- ", ": ", "? ", "|", ">-", "\t",
    "!!python/object:os.system", "!!binary x", "!!int x", "!!timestamp 2026-13-45", "%YAML 1.1",
    "---", "...", ".nan", "-.inf", "1" + "0" * 40, "1.0e+400", "99999999999999999999d", "P99Y",
    "yes", "no", "~", "null", "'unterminated", '"\\x00"', "\ufeff", "\u202e", "\\", "#",
    "1=1) ; CREATE TABLE pwned (x INT); --", "(SELECT 1)", "read_csv('/etc/passwd')",
    "../../x", "${HOME}", "${NOT_SET}", "0 9 * * 8", "60 25 * * *", "[" * 200, "{" * 50,
]  # fmt: skip
"""Pieces of YAML, values and SQL that have broken config loaders, this one included."""

Tree = Any


@st.composite
def edited_text(draw: st.DrawFn) -> bytes:
    """The valid file with a few lines deleted, repeated, re-indented or spliced into."""
    lines = BASE.splitlines()
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "repeat", "indent", "splice", "replace"]))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "repeat":
            lines.insert(i, lines[i])
        elif op == "indent":
            lines[i] = " " * draw(st.integers(0, 9)) + lines[i].lstrip()
        else:
            at = draw(st.integers(0, len(lines[i])))
            snippet = draw(st.sampled_from(SNIPPETS) | st.text(max_size=12))
            cut = at if op == "splice" else len(lines[i])
            lines[i] = lines[i][:at] + snippet + lines[i][cut:]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


VALUES: st.SearchStrategy[Tree] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(SNIPPETS)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def replaced_values(draw: st.DrawFn) -> bytes:
    """The valid file's data with values replaced at random key paths, dumped again."""
    data = yaml.safe_load(BASE)
    for _ in range(draw(st.integers(1, 4))):
        node: Tree = data
        while isinstance(node, dict | list) and node and draw(st.booleans()):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            key = draw(st.sampled_from(keys))
            if not isinstance(node[key], dict | list) or draw(st.booleans()):
                node[key] = draw(VALUES)
                break
            node = node[key]
        else:
            if isinstance(node, dict):
                node[draw(st.sampled_from(["metrics", "sources", "extra", "nps"]))] = draw(VALUES)
    return yaml.safe_dump(data, allow_unicode=True).encode("utf-8", "surrogatepass")


FILES = edited_text() | replaced_values() | st.binary(max_size=400)


@settings(
    max_examples=1000,
    deadline=None,  # timed below, in CPU seconds
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
@given(raw=FILES)
def test_any_malformed_file_is_exit_0_or_3_in_time_without_a_traceback(
    tmp_path: Path, raw: bytes
) -> None:
    path = tmp_path / "metrics.yaml"
    path.write_bytes(raw)
    started = time.process_time()  # CPU time: other work on a shared machine does not count
    result = validate(path)
    used = time.process_time() - started
    assert result.code in (0, 3), result
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert used < 5, f"validate took {used:.1f} s of CPU"
