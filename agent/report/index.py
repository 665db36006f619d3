"""``reports/index.html``: every run found on disk, newest first, and a history per metric.

The index is rebuilt from the JSON reports alone (``*/*.json``), so it is always
consistent with what is on disk and needs no database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from agent.report.context import MESSAGES
from agent.report.formatting import format_value
from agent.report.render import SCHEMA, render_template, write_atomic

__all__ = ["IndexRow", "read_reports", "write_index"]


@dataclass(frozen=True)
class IndexRow:
    """One report as the index shows it; ``link`` is relative to ``reports/``."""

    metric: str
    title: str
    period: datetime
    date: str
    value: str
    severity: str | None
    findings: int
    headline: str
    link: str


def _row(path: Path, reports_dir: Path, data: dict[str, Any]) -> IndexRow:
    html = path.with_suffix(".html")
    target = html if html.exists() else path
    return IndexRow(
        metric=data["metric"],
        title=data["title"],
        period=datetime.fromisoformat(data["period"]),
        date=path.parent.name,
        value=format_value(data["value"], data["unit"]),
        severity=data["severity"],
        findings=len(data["findings"]),
        headline=data["headline"],
        link=quote(target.relative_to(reports_dir).as_posix()),
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
        except (OSError, ValueError, KeyError, TypeError):
            unreadable.append(path.relative_to(reports_dir).as_posix())
    rows.sort(key=lambda r: r.metric)
    rows.sort(key=lambda r: r.period, reverse=True)
    return rows, unreadable


def _run_view(row: IndexRow, msg: dict[str, str]) -> dict[str, Any]:
    return {
        "date": row.date,
        "metric": row.metric,
        "title": row.title,
        "value": row.value,
        "severity": row.severity or "none",
        "severity_label": msg[f"severity_{row.severity}"] if row.severity else msg["no_findings"],
        "findings": row.findings,
        "headline": row.headline,
        "link": row.link,
    }


def _history(rows: list[IndexRow], msg: dict[str, str]) -> list[dict[str, Any]]:
    """One section per metric (by title), its runs newest first."""
    by_metric: dict[str, list[IndexRow]] = {}
    for row in rows:
        by_metric.setdefault(row.metric, []).append(row)
    ordered = sorted(by_metric.values(), key=lambda runs: (runs[0].title, runs[0].metric))
    return [
        {
            "metric": runs[0].metric,
            "title": runs[0].title,
            "runs": [_run_view(r, msg) for r in runs],
        }
        for runs in ordered
    ]


def write_index(reports_dir: Path, *, templates_dir: Path | None = None, lang: str = "en") -> Path:
    """Rebuild ``reports_dir/index.html`` from the JSON reports under it."""
    msg = MESSAGES[lang]
    rows, unreadable = read_reports(reports_dir)
    context = {
        "lang": lang,
        "t": msg,
        "runs": [_run_view(r, msg) for r in rows],
        "metrics": _history(rows, msg),
        "unreadable": msg["unreadable"].format(names=", ".join(unreadable)) if unreadable else "",
    }
    html = render_template("index.html.j2", context, templates_dir=templates_dir)
    path = reports_dir / "index.html"
    reports_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(path, html.encode())
    return path
