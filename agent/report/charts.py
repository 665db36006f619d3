"""The report chart: value against the expected band, as a 2× PNG (email shows no SVG).

Uses ``matplotlib.figure.Figure`` directly (no pyplot): no global state, and the
figure is freed with its last reference, so 400 reports in one process do not grow.
Korean charts are drawn with NanumGothic (Debian ``fonts-nanum``), falling back to
matplotlib's DejaVu Sans for the few symbols it lacks.
"""

from __future__ import annotations

import io
import warnings
from contextlib import AbstractContextManager
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from agent.model import Explanation, FindingKind, RunResult
from agent.report.chart_text import declutter, room_for_y_labels
from agent.report.formatting import alert_opened, format_value
from agent.report.messages import MESSAGES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

    from agent.report import ReportInput

__all__ = [
    "CHART_PERIODS",
    "DPI",
    "HANGUL_FONT_FILE",
    "chart_fonts",
    "chart_style",
    "chart_window",
    "episode_span",
    "hangul_font",
    "main_figure",
    "new_figure",
    "png",
    "render_chart",
    "shade_episode",
    "style_axes",
    "wall_time",
]

CHART_PERIODS = 90
_SIZE_INCHES = (8.0, 3.0)
DPI = 200
_MARGINS = {"left": 0.1, "right": 0.98, "top": 0.9, "bottom": 0.14}
_VALUE, _EXPECTED, _BAND, _SPAN = "#1f4e79", "#6e7781", "#d0d7de", "#ffd8b5"
_SEVERITY_COLOURS = {"info": "#0969da", "warning": "#bf8700", "critical": "#cf222e"}
HANGUL_FONT_FILE = "NanumGothic.ttf"
"""The Hangul font Korean charts use: Debian ``fonts-nanum``, installed by the README's set-up."""
_DATE_FORMATS: dict[str, dict[str, list[str]]] = {
    # "11월", "18일", "2026년 11월" for ConciseDateFormatter's year…second levels; "%-d"
    # (no leading zero) is POSIX strftime, as on Debian and macOS
    "ko": {
        "formats": ["%Y년", "%-m월", "%-d일", "%H:%M", "%H:%M", "%S.%f"],
        "zero_formats": ["", "%Y년", "%-m월", "%-m월 %-d일", "%H:%M", "%H:%M"],
        "offset_formats": [
            "",
            "%Y년",
            "%Y년 %-m월",
            "%Y년 %-m월 %-d일",
            "%Y년 %-m월 %-d일",
            "%Y년 %-m월 %-d일 %H:%M",
        ],
    }
}


def chart_window(history: pd.DataFrame, period: datetime) -> pd.DataFrame:
    """The last ``CHART_PERIODS`` rows of ``history`` up to and including ``period``."""
    return history.sort_index().loc[:period].tail(CHART_PERIODS)


def wall_time(ts: datetime, tz: tzinfo | None) -> pd.Timestamp:
    """Wall-clock time in the history's timezone, tz-naive: matplotlib would plot UTC."""
    stamp = pd.Timestamp(ts)
    if stamp.tzinfo is not None and tz is not None:
        stamp = stamp.tz_convert(tz)
    return stamp.tz_localize(None)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=float, na_value=np.nan)


def _draw_series(ax: Axes, frame: pd.DataFrame, msg: dict[str, str]) -> None:
    index = pd.DatetimeIndex(frame.index)
    x = index.tz_localize(None) if index.tz is not None else index
    ax.fill_between(
        x,
        _column(frame, "lower"),
        _column(frame, "upper"),
        color=_BAND,
        lw=0,
        label=msg["chart_band"],
    )
    ax.plot(
        x, _column(frame, "expected"), color=_EXPECTED, lw=1, ls="--", label=msg["chart_expected"]
    )
    ax.plot(x, _column(frame, "value"), color=_VALUE, lw=1.6, label=msg["chart_value"])


def episode_span(e: Explanation) -> tuple[datetime, datetime]:
    """Since when and until when a finding's alert has been open (the finding alone
    without one)."""
    if e.episode is not None:
        return alert_opened(e.episode), max(e.episode.last_seen, e.finding.period)
    return e.finding.since, e.finding.period


def _began(e: Explanation) -> bool:
    """Whether ``e`` is a move whose onset the chart marks (not a recovery or late data)."""
    return e.finding.kind not in (FindingKind.RECOVERED, FindingKind.LATE_DATA)


def shade_episode(ax: Axes, e: Explanation, tz: tzinfo | None, start: pd.Timestamp | None) -> bool:
    """Shade the time ``e``'s alert has been open and mark with a line when its change
    began (the two dates the report names); whether anything was shaded (``start``: the
    first period drawn)."""
    since, last = (wall_time(t, tz) for t in episode_span(e))
    onset = wall_time(e.finding.since, tz)
    if _began(e) and (start is None or onset >= start):
        # matplotlib's stubs take floats only; its date units convert Timestamps
        ax.axvline(onset, color=_SEVERITY_COLOURS[e.finding.severity], lw=1.2, ls=":")  # type: ignore[arg-type]
    since = max(since, start) if start is not None else since
    if since >= last:
        return False
    ax.axvspan(since, last, color=_SPAN, alpha=0.5, lw=0, zorder=1.5)  # type: ignore[arg-type]  # as above
    return True


def _draw_findings(
    ax: Axes, run: RunResult, tz: tzinfo | None, start: pd.Timestamp | None, msg: dict[str, str]
) -> None:
    """Shade each finding's open alert, mark when its change began, name both in the legend."""
    shaded = [shade_episode(ax, e, tz, start) for e in run.explanations]
    if any(shaded):
        ax.fill_between([], [], color=_SPAN, alpha=0.5, lw=0, label=msg["chart_episode"])
    if any(_began(e) for e in run.explanations):
        ax.plot([], [], color=_EXPECTED, lw=1.2, ls=":", label=msg["chart_change"])


def _draw_period(ax: Axes, run: RunResult, tz: tzinfo | None, msg: dict[str, str]) -> None:
    if run.value is None:
        return
    colour = _SEVERITY_COLOURS[run.severity] if run.severity else _VALUE
    ax.scatter(
        [wall_time(run.period, tz)],  # type: ignore[arg-type]  # floats in the stubs; date units
        [run.value],
        s=36,
        color=colour,
        zorder=5,
        label=msg["chart_period"],
    )


def style_axes(ax: Axes, inp: ReportInput, *, ticks: int | None = None, size: int = 8) -> None:
    """Dates below (in ``inp.locale``), values in the metric's unit, light grid, no box."""
    # imported on use: see agent/__init__.py
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.ticker import FuncFormatter

    if inp.grain == "hour":  # days of hours: a tick a day or a few hours apart
        locator = AutoDateLocator(minticks=2, maxticks=ticks or 8)
    else:
        locator = AutoDateLocator(maxticks=ticks) if ticks else AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, **_DATE_FORMATS.get(inp.locale, {})))
    ax.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _pos: format_value(v, inp.unit, inp.locale))
    )
    ax.grid(axis="y", color="#eaeef2", lw=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=size)
    ax.xaxis.get_offset_text().set_fontsize(size)


@lru_cache(maxsize=1)
def hangul_font() -> str | None:
    """The family name of the Hangul font, registered with matplotlib; None if not installed.

    Looked up by file rather than by family name: matplotlib's font cache predates a font
    installed after it was built, and would not list it.
    """
    # imported on use: see agent/__init__.py
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts():
        if Path(path).name == HANGUL_FONT_FILE:
            font_manager.fontManager.addfont(path)
            name: str = font_manager.FontProperties(fname=path).get_name()
            return name
    return None


def chart_fonts(locale: str) -> dict[RcKeyType, list[str]]:
    """rc settings for ``locale``: a Hangul font first for Korean, else matplotlib's default."""
    if locale != "ko":
        return {}
    family = hangul_font()
    if family is None:
        warnings.warn(
            f"no Hangul font ({HANGUL_FONT_FILE}) found: Korean chart labels will show as "
            "boxes; install it with `apt-get install fonts-nanum`",
            stacklevel=3,
        )
        return {}
    return {"font.family": [family, "DejaVu Sans"]}


def chart_style(locale: str) -> AbstractContextManager[None]:
    """matplotlib settings while drawing a chart in ``locale``: its fonts, and text
    drawn as is, never as mathtext (segment names come from the data)."""
    # imported on use: see agent/__init__.py
    from matplotlib import rc_context

    settings: dict[RcKeyType, object] = {**chart_fonts(locale), "text.parse_math": False}
    return rc_context(settings)


def new_figure(width: float, height: float) -> Figure:
    """A figure of its own (no pyplot state), freed with its last reference, at the PNG's
    resolution with an Agg canvas: texts are measured as they will be drawn."""
    # imported on use: see agent/__init__.py
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def render_chart(inp: ReportInput) -> bytes:
    """PNG bytes (1600×600 px) of the last ``CHART_PERIODS`` periods of ``inp.history``,
    labelled in ``inp.locale``."""
    with chart_style(inp.locale):
        return png(main_figure(inp))


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def main_figure(inp: ReportInput) -> Figure:
    """The value against its band, the findings marked; call inside ``chart_style``."""
    msg = MESSAGES[inp.locale]
    frame = chart_window(inp.history, inp.run.period)
    tz = getattr(frame.index, "tz", None)
    fig = new_figure(*_SIZE_INCHES)
    fig.subplots_adjust(**_MARGINS)  # fixed margins: a layout engine would double the cost
    ax = fig.add_subplot()
    _draw_series(ax, frame, msg)
    start = wall_time(frame.index[0], tz) if len(frame) else None
    _draw_findings(ax, inp.run, tz, start, msg)
    _draw_period(ax, inp.run, tz, msg)
    style_axes(ax, inp)
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=7, frameon=False, ncols=6)
    room_for_y_labels(fig)
    declutter(fig)
    return fig
