"""The two charts of a finding's causes, as 2× PNGs next to the report.

* **Causes**: one horizontal bar per top cause, its contribution to the change split
  into rate effect (the segment's own rate moved) and mix effect (its share of the
  population moved), then the remainder of the other segments and the total change.
* **Segments**: small multiples of the top causes' own series (one panel each, one
  shared scale), the episode shaded as in the main chart.

Segment names come from the data: they are drawn as plain text (no mathtext), never
interpreted.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from agent.model import Cause, Explanation, Segment
from agent.report.chart_text import declutter, fit_text, room_for_y_labels, text_width
from agent.report.charts import (
    chart_style,
    chart_window,
    new_figure,
    png,
    shade_episode,
    style_axes,
    wall_time,
)
from agent.report.formatting import format_delta, segment_label
from agent.report.messages import MESSAGES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from agent.report import ReportInput

__all__ = [
    "CAUSE_BARS",
    "PANELS",
    "causes_figure",
    "render_causes_chart",
    "render_segments_chart",
    "segments_figure",
    "top_segments",
    "total_change",
]

CAUSE_BARS = 6
"""Causes drawn as bars; the rest are in "other segments"."""
PANELS = 4
"""Top causes drawn as small multiples."""
_RATE, _MIX, _OTHERS, _TOTAL = "#1f4e79", "#7aa6d1", "#adb5bd", "#24292f"
_NAMES_WIDTH = 0.38
"""Share of the causes chart's width that segment names may take; longer ones are cut."""
_NAME_SIZE, _VALUE_SIZE, _PAD = 8, 7, 5.0
"""Font sizes of segment names and values, and the gap beside them (points)."""


def total_change(e: Explanation) -> float:
    """The change the causes' shares are shares of (value − expected when no cause says)."""
    for c in e.causes:
        if c.share and math.isfinite(c.share) and math.isfinite(c.contribution):
            return c.contribution / c.share
    return e.finding.value - e.finding.expected


def render_causes_chart(e: Explanation, inp: ReportInput) -> bytes | None:
    """Bars of rate and mix effect per top cause, other segments and the total; None
    without causes."""
    if not e.causes:
        return None
    with chart_style(inp.locale):
        return png(causes_figure(e, inp))


def causes_figure(e: Explanation, inp: ReportInput) -> Figure:
    """The causes chart of ``e`` (which has causes); call inside ``chart_style``.

    Three columns that cannot collide: segment names (cut to fit) on the left, the bars,
    and each row's signed contribution on the right.
    """
    msg = MESSAGES[inp.locale]
    causes = e.causes[:CAUSE_BARS]
    total = total_change(e)
    others = total - sum(c.contribution for c in causes)
    rows = len(causes) + 2
    fig = new_figure(8.0, 0.42 * rows + 0.9)
    width, pad = fig.bbox.width, _PAD * fig.dpi / 72
    names = [segment_label(c.segment, msg) for c in causes] + [msg["others"], msg["total_change"]]
    names = [fit_text(fig, name, _NAMES_WIDTH * width - 2 * pad, _NAME_SIZE) for name in names]
    ends = [c.contribution for c in causes] + [others, total]
    values = [format_delta(end, inp.unit, inp.locale) if math.isfinite(end) else "" for end in ends]
    fig.subplots_adjust(
        left=(max(text_width(fig, n, _NAME_SIZE) for n in names) + 2 * pad) / width,
        right=1 - (max(text_width(fig, v, _VALUE_SIZE) for v in values) + 2 * pad) / width,
        top=1 - 0.35 / fig.get_figheight(),
        bottom=0.5 / fig.get_figheight(),
    )
    ax = fig.add_subplot()
    y = np.arange(rows)[::-1]
    rate = [c.rate_effect for c in causes]
    ax.barh(y[: len(causes)], rate, color=_RATE, height=0.6, label=msg["rate_effect"])
    mix = [c.mix_effect for c in causes]
    ax.barh(y[: len(causes)], mix, left=rate, color=_MIX, height=0.6, label=msg["mix_effect"])
    ax.barh([y[-2]], [others], color=_OTHERS, height=0.6)
    ax.barh([y[-1]], [total], color=_TOTAL, height=0.6)
    for row, text in zip(y, values, strict=True):
        ax.annotate(
            text,
            (1.0, row),
            xycoords=("axes fraction", "data"),
            xytext=(_PAD, 0),
            textcoords="offset points",
            va="center",
            fontsize=_VALUE_SIZE,
        )
    ax.set_yticks(y, names)
    ax.axvline(0, color="#57606a", lw=0.8)
    _style(ax, inp)
    ax.legend(loc="lower right", fontsize=7, frameon=False, ncols=2, bbox_to_anchor=(1.0, 1.0))
    declutter(fig)
    return fig


def _style(ax: Axes, inp: ReportInput) -> None:
    # imported on use: see agent/__init__.py
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _pos: format_delta(v, inp.unit, inp.locale))
    )
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.margins(x=0.05)
    ax.grid(axis="x", color="#eaeef2", lw=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8, left=False)


def top_segments(e: Explanation, inp: ReportInput) -> list[tuple[Cause, pd.Series]]:
    """The top causes that have their own series in ``inp.segments``, at most ``PANELS``."""
    found = []
    for c in e.causes:
        series = _series_of(c.segment, inp.segments)
        if series is not None and series.notna().any():
            found.append((c, series))
    return found[:PANELS]


def _series_of(segment: Segment, segments: list[tuple[Segment, pd.Series]]) -> pd.Series | None:
    return next((s for seg, s in segments if seg == segment), None)


def render_segments_chart(e: Explanation, inp: ReportInput) -> bytes | None:
    """One panel per top cause's own series, on one scale; None without any."""
    panels = top_segments(e, inp)
    if not panels:
        return None
    with chart_style(inp.locale):
        return png(segments_figure(e, panels, inp))


def segments_figure(
    e: Explanation, panels: list[tuple[Cause, pd.Series]], inp: ReportInput
) -> Figure:
    """One panel per cause of ``panels``, titled with its segment (cut to the panel's
    width); call inside ``chart_style``."""
    msg = MESSAGES[inp.locale]
    fig = new_figure(8.0, 2.2)
    fig.subplots_adjust(left=0.08, right=0.95, top=0.84, bottom=0.16, wspace=0.08)
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, (cause, series) in zip(axes, panels, strict=True):
        frame = chart_window(series.to_frame("value"), inp.run.period)
        tz = getattr(frame.index, "tz", None)
        x = [wall_time(t, tz) for t in frame.index]
        shade_episode(ax, e, tz, x[0] if x else None)
        ax.plot(x, frame["value"].to_numpy(dtype=float, na_value=np.nan), color=_RATE, lw=1.2)
        room = ax.get_position().width * fig.bbox.width
        title = fit_text(fig, segment_label(cause.segment, msg), room, 8)
        ax.set_title(title, fontsize=8, loc="left")
        style_axes(ax, inp, ticks=4, size=7)
    room_for_y_labels(fig)
    declutter(fig)
    return fig
