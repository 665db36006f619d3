"""The report stage: one run -> HTML, Markdown, JSON and PNG charts under ``reports/``.

``reports/<YYYY-MM-DD>/<metric>.html|.md|.json|.png`` (the date is the evaluated
period's, in its own timezone), ``<metric>.causes-<n>.png`` and ``<metric>.segments-<n>.png``
for the n-th finding with causes, and ``reports/index.html`` (``write_index``).
``next_steps`` gives the playbook's steps for a run (the Slack alert shows them too).
"""

from __future__ import annotations

import dataclasses
import glob
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from agent.errors import ReportError
from agent.model import RunResult, Segment
from agent.report.cause_charts import render_causes_chart, render_segments_chart
from agent.report.charts import chart_window, render_chart
from agent.report.context import Assets
from agent.report.email import EmailReport, email_report
from agent.report.history import previous_reports
from agent.report.index import write_index
from agent.report.messages import Locale
from agent.report.playbook import NextStep, PlaybookEntry, PlaybookValue, next_steps
from agent.report.render import json_contract, render_html, render_markdown, write_atomic

__all__ = [
    "EmailReport",
    "NextStep",
    "PlaybookEntry",
    "ReportFiles",
    "ReportInput",
    "email_report",
    "json_contract",
    "next_steps",
    "write_index",
    "write_reports",
]


@dataclass(frozen=True)
class ReportInput:
    """One run plus what the report needs to draw and word it.

    ``history`` is indexed by period (timezone-aware) with float columns ``value``,
    ``expected``, ``lower``, ``upper`` (NaN allowed). ``good`` is the direction that is
    good news; ``grain`` is ``hour`` | ``day`` | ``week`` | ``month``; ``locale`` is the language
    every file is written in (words, numbers, dates, chart labels); ``playbook`` is shown
    as "what to do next" when something was found. ``segments`` are the own value series
    (indexed like ``history``) of segments the causes name, drawn as small multiples.
    """

    run: RunResult
    history: pd.DataFrame
    unit: Literal["percent", "number", "currency", "score"]
    good: Literal["up", "down"]
    grain: str
    dimensions: list[str]
    locale: Locale = "en"
    playbook: PlaybookValue | None = None
    """What the team does when this metric moves (metrics.yaml ``playbook:``)."""
    segments: list[tuple[Segment, pd.Series]] = field(default_factory=list)


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    md: Path
    json: Path
    png: Path
    charts: tuple[Path, ...] = ()
    """The findings' cause charts and small multiples, next to the main chart."""


def _report_files(inp: ReportInput, reports_dir: Path, stem: Path | None) -> ReportFiles:
    metric = inp.run.metric
    if metric in {"", ".", ".."} or Path(metric).name != metric:
        raise ReportError(metric, "a metric name cannot be used as a file name")
    folder = (
        f"{inp.run.period:%Y-%m-%dT%H}" if inp.grain == "hour" else f"{inp.run.period:%Y-%m-%d}"
    )
    path = reports_dir / (stem or Path(folder) / metric)
    html, md, data, png = (
        path.with_name(f"{path.name}.{ext}") for ext in ("html", "md", "json", "png")
    )
    return ReportFiles(html, md, data, png)


def _finding_charts(inp: ReportInput, png: Path) -> tuple[dict[Path, bytes], Assets]:
    """The causes chart and small multiples of each finding that has them, and the page's
    assets naming them (file names relative to the page)."""
    shown = len(chart_window(inp.history, inp.run.period))
    assets = Assets(chart=png.name, periods_shown=shown)
    images: dict[Path, bytes] = {}
    for i, e in enumerate(inp.run.explanations):
        for kind, render, names in (
            ("causes", render_causes_chart, assets.causes),
            ("segments", render_segments_chart, assets.segments),
        ):
            data = render(e, inp)
            if data is not None:
                path = png.with_name(f"{png.stem}.{kind}-{i + 1}.png")
                images[path], names[i] = data, path.name
    return images, assets


def _remove_stale(png: Path, keep: set[Path]) -> None:
    """Finding charts of an earlier write of this report that this one does not have."""
    for kind in ("causes", "segments"):
        for old in png.parent.glob(f"{glob.escape(png.stem)}.{kind}-*.png"):
            if old not in keep:
                old.unlink(missing_ok=True)


def write_reports(
    inp: ReportInput,
    reports_dir: Path,
    *,
    templates_dir: Path | None = None,
    stem: Path | None = None,
) -> ReportFiles:
    """Render everything first, then write the PNGs, Markdown, HTML and JSON last.

    ``stem``: where to write instead of ``<date>/<metric>`` (relative to ``reports_dir``,
    without suffix; ``cx-agent explain`` keeps its reports out of the index this way).

    The JSON is what ``write_index`` reads, so a report is listed only once all its
    files are in place; each file is replaced atomically.
    """
    files = _report_files(inp, reports_dir, stem)
    images, assets = _finding_charts(inp, files.png)
    assets.previous.update(previous_reports(reports_dir, inp.run))
    md = render_markdown(inp, assets, templates_dir=templates_dir)
    html = render_html(inp, assets, templates_dir=templates_dir)
    report = json.dumps(json_contract(inp), indent=2, ensure_ascii=False, allow_nan=False)
    contents = {
        files.png: render_chart(inp),
        **images,
        files.md: md.encode(),
        files.html: html.encode(),
        files.json: report.encode(),
    }
    try:
        files.json.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(str(files.json.parent), f"could not create: {exc}") from exc
    _remove_stale(files.png, set(images))
    for path, data in contents.items():
        write_atomic(path, data)
    return dataclasses.replace(files, charts=tuple(images))
