"""The report stage: one run -> HTML, Markdown, JSON and a PNG chart under ``reports/``.

``reports/<YYYY-MM-DD>/<metric>.html|.md|.json|.png`` (the date is the evaluated
period's, in its own timezone) and ``reports/index.html`` (``write_index``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from agent.errors import ReportError
from agent.model import RunResult
from agent.report.charts import chart_window, render_chart
from agent.report.email import EmailReport, email_report
from agent.report.index import write_index
from agent.report.messages import Locale
from agent.report.render import json_contract, render_html, render_markdown, write_atomic

__all__ = [
    "EmailReport",
    "ReportFiles",
    "ReportInput",
    "email_report",
    "json_contract",
    "write_index",
    "write_reports",
]


@dataclass(frozen=True)
class ReportInput:
    """One run plus what the report needs to draw and word it.

    ``history`` is indexed by period (timezone-aware) with float columns ``value``,
    ``expected``, ``lower``, ``upper`` (NaN allowed). ``good`` is the direction that is
    good news; ``grain`` is ``day`` | ``week`` | ``month``; ``locale`` is the language
    every file is written in (words, numbers, dates, chart labels); ``playbook`` is shown
    as "what to do next" when something was found.
    """

    run: RunResult
    history: pd.DataFrame
    unit: Literal["percent", "number", "currency", "score"]
    good: Literal["up", "down"]
    grain: str
    dimensions: list[str]
    locale: Locale = "en"
    playbook: str | None = None
    """What the team does when this metric moves (metrics.yaml ``playbook:``)."""


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    md: Path
    json: Path
    png: Path


def _report_files(inp: ReportInput, reports_dir: Path) -> ReportFiles:
    metric = inp.run.metric
    if metric in {"", ".", ".."} or Path(metric).name != metric:
        raise ReportError(metric, "a metric name cannot be used as a file name")
    stem = reports_dir / f"{inp.run.period:%Y-%m-%d}" / metric
    return ReportFiles(
        *(stem.with_name(f"{metric}.{ext}") for ext in ("html", "md", "json", "png"))
    )


def write_reports(
    inp: ReportInput, reports_dir: Path, *, templates_dir: Path | None = None
) -> ReportFiles:
    """Render everything first, then write PNG, Markdown, HTML and JSON last.

    The JSON is what ``write_index`` reads, so a report is listed only once all its
    files are in place; each file is replaced atomically.
    """
    files = _report_files(inp, reports_dir)
    shown = len(chart_window(inp.history, inp.run.period))
    src = files.png.name
    md = render_markdown(inp, chart_src=src, periods_shown=shown, templates_dir=templates_dir)
    html = render_html(inp, chart_src=src, periods_shown=shown, templates_dir=templates_dir)
    report = json.dumps(json_contract(inp), indent=2, ensure_ascii=False, allow_nan=False)
    contents = {
        files.png: render_chart(inp),
        files.md: md.encode(),
        files.html: html.encode(),
        files.json: report.encode(),
    }
    try:
        files.json.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(str(files.json.parent), f"could not create: {exc}") from exc
    for path, data in contents.items():
        write_atomic(path, data)
    return files
