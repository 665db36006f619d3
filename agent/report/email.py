"""The email-safe variant of a report: subject, HTML, plain text and the chart as a CID image.

Mail clients ignore ``<style>`` blocks, flexbox, grid and ``data:`` images, and clip
long messages (Gmail at about 100 KB). So the HTML is a 600 px layout of nested
``<table role="presentation">``, every rule of its stylesheet is inlined into ``style``
attributes (css-inline), the charts are PNGs referenced as ``cid:…`` (the main chart and
each shown finding's causes chart; the small multiples stay in the full report, to keep
the message small), links that only work next to the report files (customer CSVs, the
previous report) are left out, and long lists are
cut with an "… and N more" row, shorter still when the HTML would pass
``EMAIL_MAX_BYTES``. Wording comes from the same
view-model as the report pages (``build_context``); sending is not done here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import css_inline

from agent.report.cause_charts import render_causes_chart
from agent.report.charts import chart_window, render_chart
from agent.report.context import Assets, build_context
from agent.report.messages import MESSAGES, fill
from agent.report.render import render_template
from agent.text import one_line

if TYPE_CHECKING:
    from agent.report import ReportInput

__all__ = ["EMAIL_MAX_BYTES", "EMAIL_ROWS", "EmailReport", "email_report"]

EMAIL_ROWS = 10
"""At most this many findings, and rows per cause table and per list (segments checked,
related, events), are shown in an email; the full report has the rest."""
EMAIL_MAX_BYTES = 100_000
"""Gmail clips a message whose HTML passes about 102 KB; lists are cut shorter to stay under."""
_SHORTER = (EMAIL_ROWS, 5, 3, 1)
_LISTS = ("causes", "checked_explained", "checked_normal", "checked_moved", "related", "events")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")
_INLINER = css_inline.CSSInliner(
    load_remote_stylesheets=False, keep_style_tags=False, minify_css=True
)


@dataclass(frozen=True)
class EmailReport:
    """A report ready to be put into a MIME message.

    ``images`` maps each Content-ID (without angle brackets) that ``html`` references as
    ``cid:<id>`` to its PNG bytes.
    """

    subject: str
    html: str
    text: str
    images: dict[str, bytes] = field(repr=False)


def _cut(rows: list[Any], limit: int, msg: dict[str, str]) -> tuple[list[Any], str]:
    """The first ``limit`` rows, and "… and N more" when some were left out."""
    if len(rows) <= limit:
        return rows, ""
    return rows[:limit], fill(msg["and_more"], n=len(rows) - limit)


def _shorten(ctx: dict[str, Any], limit: int, msg: dict[str, str]) -> dict[str, Any]:
    """``ctx`` with at most ``limit`` findings and ``limit`` rows per list; each cut list
    ``key`` gets a ``key_more`` sentence (empty when nothing was cut)."""
    findings, findings_more = _cut(ctx["findings"], limit, msg)
    shortened = []
    for view in findings:
        view = dict(view)
        for key in _LISTS:
            view[key], view[f"{key}_more"] = _cut(view[key], limit, msg)
        shortened.append(view)
    return ctx | {"findings": shortened, "findings_more": findings_more}


def _content_id(metric: str, part: str = "chart") -> str:
    return f"{_UNSAFE_ID.sub('-', metric).strip('-.') or 'metric'}.{part}@cx-agent"


def _fit(
    ctx: dict[str, Any], msg: dict[str, str], templates_dir: Path | None
) -> tuple[str, dict[str, Any]]:
    """The inlined HTML with the longest lists that keep it under ``EMAIL_MAX_BYTES`` (the
    shortest cut when none does: only data values themselves are that long), and the
    view-model it shows."""
    for limit in _SHORTER:
        shortened = _shorten(ctx, limit, msg)
        html = _INLINER.inline(
            render_template("email.html.j2", shortened, templates_dir=templates_dir)
        )
        if len(html.encode()) < EMAIL_MAX_BYTES:
            break
    return html, shortened


def email_report(inp: ReportInput, *, templates_dir: Path | None = None) -> EmailReport:
    """Render ``inp`` as an email: ``email.html.j2`` (CSS inlined) and ``email.txt.j2``,
    both showing the same rows."""
    msg = MESSAGES[inp.locale]
    cid = _content_id(inp.run.metric)
    shown = len(chart_window(inp.history, inp.run.period))
    images = {cid: render_chart(inp)}
    assets = Assets(chart=f"cid:{cid}", periods_shown=shown, depth="")
    for i, e in enumerate(inp.run.explanations[:EMAIL_ROWS]):
        causes = render_causes_chart(e, inp)
        if causes is not None:
            key = _content_id(inp.run.metric, f"causes-{i + 1}")
            images[key], assets.causes[i] = causes, f"cid:{key}"
    full = build_context(inp, assets)
    html, ctx = _fit(full, msg, templates_dir)
    text = render_template("email.txt.j2", ctx, templates_dir=templates_dir)
    subject = fill(msg["email_subject"], severity=ctx["severity_label"], headline=ctx["headline"])
    return EmailReport(
        subject=one_line(subject),
        html=html,
        text=text,
        images={key: png for key, png in images.items() if f"cid:{key}" in html},
    )
