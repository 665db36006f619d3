"""The status board that opens ``reports/index.html``: one row per metric, as its latest
report left it.

Each row says the metric's state now (an alert and its severity, data late, not judged,
or normal), draws its last periods against the expected range (an inline SVG: no script,
no image file), and for an open alert gives when the alert opened, when the change
began and its top cause, with the same dates the report gives. Everything comes from the
JSON reports (what the runs recorded), so the board never disagrees with the reports it
links to: the metric's latest, or for an alert still open that the latest does not show
(a period without a finding does not close an alert; its recovery does) the latest
report that showed it. Alerts come first, the most severe first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from agent.model import Severity
from agent.report.context import headline_rank
from agent.report.formatting import format_period, format_share, format_value, segment_label
from agent.report.messages import MESSAGES, fill

__all__ = ["SPARK_SIZE", "State", "board_rows", "sparkline", "state_of"]

T = TypeVar("T")
SPARK_SIZE = (120.0, 32.0)
"""Width and height of a sparkline, in CSS pixels."""
_PAD = 3.0
_ALERTING = ("new", "ongoing")
_ORDER = {"alert": 0, "late": 1, "not_judged": 2, "normal": 3}


@dataclass(frozen=True)
class State:
    """A metric's state as its latest report left it; ``finding`` is the one its headline
    speaks of (the alert's, or the late data's), ``note`` a line saying why (late data,
    not judged)."""

    kind: str
    severity: str | None
    finding: dict[str, Any] | None
    note: str


def _headline_finding(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """The finding the report's headline tells (``headline_rank``)."""

    def rank(f: dict[str, Any]) -> tuple[bool, int]:
        return headline_rank(f["kind"], f["severity"], (f.get("episode") or {}).get("status"))

    return max(findings, key=rank)


def state_of(
    report: dict[str, Any], still_open: list[dict[str, Any]] | None = None, lang: str = "en"
) -> State:
    """Alert (with the worst severity of the open alerts), data late, not judged or normal.

    ``still_open``: the latest findings of alerts still open that ``report`` does not show
    (its period had no finding of theirs); they keep the metric in alert, with a note of
    when they were last seen."""
    findings = report["findings"]
    alerting = [
        f
        for f in findings
        if f["kind"] != "late_data" and (f.get("episode") or {}).get("status") in _ALERTING
    ]
    note = ""
    if not alerting and still_open:
        alerting = still_open
        last = _headline_finding(still_open)
        when = _date(last["period"], report.get("grain", "day"), lang)
        note = fill(MESSAGES[lang]["board_last_finding"], date=when)
    if alerting:
        worst = max((f["episode"]["severity"] for f in alerting), key=lambda s: Severity(s).rank)
        return State("alert", worst, _headline_finding(alerting), note)
    late = [f for f in findings if f["kind"] == "late_data"]
    if late:
        return State("late", None, late[0], late[0].get("reason") or "")
    codes = [n.get("code") for n in report.get("note_codes", [])]
    if "note_not_judged" in codes:
        return State("not_judged", None, None, report["notes"][codes.index("note_not_judged")])
    return State("normal", None, None, "")


def _finite(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None


def _runs(points: list[tuple[float, T | None]]) -> list[list[tuple[float, T]]]:
    """Consecutive points with a value, as separate runs (a gap breaks a line)."""
    runs: list[list[tuple[float, T]]] = [[]]
    for x, v in points:
        if v is None:
            runs.append([])
        else:
            runs[-1].append((x, v))
    return [r for r in runs if len(r) > 1]


def _text(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def sparkline(recent: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The geometry of a sparkline of ``recent`` (the JSON report's last periods): the band
    as polygons, the value as polylines, and the last value's dot; None without values."""
    values = [_finite(r.get("value")) for r in recent]
    bands = [(_finite(r.get("lower")), _finite(r.get("upper"))) for r in recent]
    band = [(lo, hi) if lo is not None and hi is not None else None for lo, hi in bands]
    seen = [v for v in values if v is not None] + [v for b in band if b for v in b]
    if not any(v is not None for v in values):
        return None
    low, high = min(seen), max(seen)
    if high - low < 1e-12:
        low, high = low - 1.0, high + 1.0
    width, height = SPARK_SIZE

    def y(v: float) -> float:
        return height - _PAD - (v - low) / (high - low) * (height - 2 * _PAD)

    step = (width - 2 * _PAD) / max(len(recent) - 1, 1)
    xs = [_PAD + i * step for i in range(len(recent))]
    polygons = [
        _text([(x, y(hi)) for x, (_, hi) in run] + [(x, y(lo)) for x, (lo, _) in run[::-1]])
        for run in _runs(list(zip(xs, band, strict=True)))
    ]
    lines = [
        _text([(x, y(v)) for x, v in run]) for run in _runs(list(zip(xs, values, strict=True)))
    ]
    x, v = next((x, v) for x, v in zip(xs[::-1], values[::-1], strict=True) if v is not None)
    return {"band": polygons, "lines": lines, "dot": {"x": f"{x:.1f}", "y": f"{y(v):.1f}"}}


def _date(iso: str, grain: str, lang: str) -> str:
    return format_period(datetime.fromisoformat(iso), grain, lang, year=True)


def _row(
    report: dict[str, Any], link: str, still_open: list[dict[str, Any]], lang: str
) -> dict[str, Any]:
    msg, grain = MESSAGES[lang], report.get("grain", "day")
    state = state_of(report, still_open, lang)
    label = msg[f"state_{state.kind}"]
    if state.severity:
        label = fill(label, severity=msg[f"severity_{state.severity}"])
    row: dict[str, Any] = {
        "metric": report["metric"],
        "title": report["title"],
        "state": state.kind,
        "badge": state.severity or ("none" if state.kind == "normal" else "late"),
        "label": label,
        "note": state.note,
        "value": format_value(report["value"], report["unit"], lang),
        "spark": sparkline(report.get("recent") or []),
        "link": link,
        "date": _date(report["period"], grain, lang),
        "opened": "",
        "began": "",
        "cause": "",
    }
    f = state.finding
    if state.kind == "alert" and f is not None:
        episode = f["episode"]
        row["opened"] = _date(episode.get("first_seen") or episode["since"], grain, lang)
        row["began"] = _date(f["since"], grain, lang)
        if f["causes"]:
            top = f["causes"][0]
            row["cause"] = f"{segment_label(top['segment'], msg)} ({format_share(top['share'])})"
    shown = len(report.get("recent") or [])
    row["spark_alt"] = fill(
        msg["sparkline_alt"], title=report["title"], n=shown, value=row["value"]
    )
    return row


def board_rows(
    latest: list[tuple[dict[str, Any], str, list[dict[str, Any]]]], lang: str
) -> list[dict[str, Any]]:
    """One row per (latest report, its link, its alerts still open that it does not show;
    see ``state_of``): alerts first (worst first), then data late, not judged and normal,
    each by title."""
    rows = [_row(report, link, still_open, lang) for report, link, still_open in latest]
    rank = {s.value: s.rank for s in Severity}
    return sorted(
        rows,
        key=lambda r: (_ORDER[r["state"]], -rank.get(r["badge"], -1), r["title"], r["metric"]),
    )
