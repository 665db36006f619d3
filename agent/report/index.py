"""``reports/index.html``: a status board of every metric as its latest report left it
(``board.py``), then the history: every run and finding on disk, newest first, with
filters by metric and severity, and each metric's alerts.

The index is rebuilt from the JSON reports alone (``*/*.json``), so it is always
consistent with what is on disk and needs no database. Dates are the reports' own (the
periods of each metric's grain), named as the reports name them: when the change began
and since when the alert has been open. The filters are a small inline script; without
it the page shows everything, and the board needs none.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from agent.model import Severity
from agent.report.board import board_rows
from agent.report.formatting import format_period, format_value, segment_label
from agent.report.history import EpisodeHistory, Reported, episode_histories, mark_of
from agent.report.messages import MESSAGES, fill
from agent.report.render import SCHEMA, render_template, write_atomic

__all__ = ["IndexRow", "read_reports", "write_index"]

SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class IndexRow:
    """One report as the index shows it; ``link`` is relative to ``reports/``."""

    metric: str
    title: str
    period: datetime
    value: str
    severity: str | None
    findings: list[Reported]
    headline: str
    link: str
    grain: str
    data: dict[str, Any]
    """The JSON report itself (what the status board reads)."""


def _row(path: Path, reports_dir: Path, data: dict[str, Any]) -> IndexRow:
    html = path.with_suffix(".html")
    link = quote((html if html.exists() else path).relative_to(reports_dir).as_posix())
    metric = data["metric"]
    period = datetime.fromisoformat(data["period"])
    findings = [
        Reported(
            metric=metric,
            report=link,
            period=period,
            kind=f["kind"],
            severity=str(Severity(f["severity"])),
            segment=dict(f["segment"]),
            mark=mark_of(f),
            began=datetime.fromisoformat(f["since"]),
        )
        for f in data["findings"]
    ]
    return IndexRow(
        metric=metric,
        title=data["title"],
        period=period,
        value=format_value(data["value"], data["unit"]),
        severity=data["severity"],
        findings=findings,
        headline=data["headline"],
        link=link,
        grain=data.get("grain", "day"),  # reports written before the JSON said it
        data=data,
    )


def read_reports(reports_dir: Path) -> tuple[list[IndexRow], list[str]]:
    """All readable reports, newest first, and the names of the files that were not."""
    rows: list[IndexRow] = []
    unreadable: list[str] = []
    for path in sorted(reports_dir.glob("*/*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("schema") != SCHEMA:
                raise ValueError(f"not a {SCHEMA} report")
            rows.append(_row(path, reports_dir, data))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            unreadable.append(path.relative_to(reports_dir).as_posix())
    rows.sort(key=lambda r: r.metric)
    rows.sort(key=lambda r: r.period, reverse=True)
    return rows, unreadable


class _Views:
    """Turns rows and episodes into the strings index.html.j2 prints."""

    def __init__(self, lang: str, episodes: list[EpisodeHistory], grains: dict[str, str]) -> None:
        self.lang = lang
        self.msg = MESSAGES[lang]
        self.grains = grains
        self.previous: dict[int, Reported] = {}
        for ep in episodes:
            before = {r.report: prev for prev, r in itertools.pairwise(ep.reports)}
            for f in ep.findings:
                if f.report in before:
                    self.previous[id(f)] = before[f.report]

    def date(self, dt: datetime, metric: str) -> str:
        """A period of ``metric`` as its reports write it ("the week of Nov 2, 2026")."""
        return format_period(dt, self.grains.get(metric, "day"), self.lang, year=True)

    def severity(self, severity: str | None) -> str:
        return self.msg[f"severity_{severity}"] if severity else self.msg["no_findings"]

    def alert(self, f: Reported) -> str:
        """The finding's episode status as the run reported it."""
        mark = f.mark
        if mark.status is None:
            return ""
        opened = self.date(mark.opened, f.metric)
        return fill(self.msg[f"episode_{mark.status}"], opened=opened, periods=mark.periods)

    def finding(self, f: Reported) -> dict[str, Any]:
        prev = self.previous.get(id(f))
        return {
            "kind": self.msg[f"kind_{f.kind}"],
            "severity": f.severity,
            "severity_label": self.severity(f.severity),
            "segment": segment_label(f.segment, self.msg),
            "alert": self.alert(f),
            "previous": {"date": self.date(prev.period, f.metric), "link": prev.report}
            if prev
            else None,
        }

    def run(self, row: IndexRow) -> dict[str, Any]:
        return {
            "date": self.date(row.period, row.metric),
            "metric": row.metric,
            "title": row.title,
            "value": row.value,
            "severity": row.severity or "none",
            "severities": " ".join(sorted({f.severity for f in row.findings})) or "none",
            "severity_label": self.severity(row.severity),
            "findings": [self.finding(f) for f in row.findings],
            "headline": row.headline,
            "link": row.link,
        }

    def status(self, ep: EpisodeHistory) -> str:
        """As of its latest report: open, not alerted yet, or recovered on that report's
        date ("" for reports written without episodes)."""
        status = ep.latest.mark.status
        if status == "recovered":
            date = self.date(ep.latest.period, ep.first.metric)
            return fill(self.msg["episode_closed"], date=date)
        if status == "pending":
            return self.msg["episode_pending"]
        return self.msg["episode_open"] if status else ""

    def episode(self, ep: EpisodeHistory) -> dict[str, Any]:
        first, latest = ep.first, ep.latest
        metric = first.metric
        return {
            "metric": metric,
            "segment": segment_label(first.segment, self.msg),
            "kind": self.msg["kind_late_data"] if ep.key[2] else "",
            "opened": self.date(ep.opened, metric),
            "last_seen": self.date(ep.last_seen, metric),
            "began": self.date(ep.began, metric),
            "status": self.status(ep),
            "severity": ep.severity,
            "severity_label": self.severity(ep.severity),
            "first": {"link": first.report, "text": self._on("first_report", first)},
            "latest": {"link": latest.report, "text": self._on("latest_report", latest)},
            "count": self._count(len(ep.reports)),
        }

    def _count(self, n: int) -> str:
        return self.msg["report_one"] if n == 1 else fill(self.msg["report_count"], n=n)

    def _on(self, key: str, f: Reported) -> str:
        return fill(self.msg[key], date=self.date(f.period, f.metric))


def _history(
    rows: list[IndexRow], episodes: list[EpisodeHistory], views: _Views
) -> list[dict[str, Any]]:
    """One section per metric (by title): its latest report and its episodes, newest first."""
    latest: dict[str, IndexRow] = {}
    for row in rows:
        latest.setdefault(row.metric, row)
    by_metric: dict[str, list[EpisodeHistory]] = {metric: [] for metric in latest}
    for ep in sorted(episodes, key=lambda e: (e.latest.period, e.opened), reverse=True):
        by_metric[ep.first.metric].append(ep)
    return [
        {
            "metric": row.metric,
            "title": row.title,
            "latest": views.run(row),
            "episodes": [views.episode(ep) for ep in by_metric[row.metric]],
        }
        for row in sorted(latest.values(), key=lambda r: (r.title, r.metric))
    ]


def _still_open(
    rows: list[IndexRow], episodes: list[EpisodeHistory], latest: dict[str, IndexRow]
) -> dict[str, list[dict[str, Any]]]:
    """Per metric, the latest finding (JSON) of each alert still open that its latest report
    does not show: a period without a finding does not close an alert, only its recovery
    does."""
    open_now = {
        id(ep.latest)
        for ep in episodes
        if not ep.key[2] and ep.latest.mark.status in ("new", "ongoing")
    }
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:  # newest first, so a tie goes to the newest (as in a report)
        if row is latest[row.metric]:
            continue
        for f, data in zip(row.findings, row.data["findings"], strict=True):
            if id(f) in open_now:
                found.setdefault(row.metric, []).append(data)
    return found


def _context(rows: list[IndexRow], unreadable: list[str], lang: str) -> dict[str, Any]:
    episodes = episode_histories([f for row in rows for f in row.findings])
    latest: dict[str, IndexRow] = {}
    for row in rows:  # newest first
        latest.setdefault(row.metric, row)
    still_open = _still_open(rows, episodes, latest)
    views = _Views(lang, episodes, {metric: row.grain for metric, row in latest.items()})
    metrics = _history(rows, episodes, views)
    msg = views.msg
    return {
        "lang": lang,
        "t": msg,
        "board": board_rows(
            [(row.data, row.link, still_open.get(m, [])) for m, row in latest.items()], lang
        ),
        "runs": [views.run(r) for r in rows],
        "metrics": metrics,
        "metric_options": [(m["metric"], m["title"]) for m in metrics],
        "severity_options": [(s, views.severity(s)) for s in SEVERITIES]
        + [("none", msg["no_findings"])],
        "unreadable": fill(msg["unreadable"], names=", ".join(unreadable)) if unreadable else "",
    }


def write_index(reports_dir: Path, *, templates_dir: Path | None = None, lang: str = "en") -> Path:
    """Rebuild ``reports_dir/index.html`` from the JSON reports under it."""
    rows, unreadable = read_reports(reports_dir)
    html = render_template(
        "index.html.j2", _context(rows, unreadable, lang), templates_dir=templates_dir
    )
    path = reports_dir / "index.html"
    reports_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(path, html.encode())
    return path
