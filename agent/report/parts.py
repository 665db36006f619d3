"""Views of a finding's parts beside its facts: its charts and the previous report of its
episode (``Assets``), and, shown only when present, which factor of a product metric
moved, the customer lists behind the causes and the feedback links; and the run's next
steps from the playbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from agent.model import Explanation, FactorMove
from agent.report.formatting import (
    format_number,
    format_period,
    format_share,
    format_value,
    segment_label,
)
from agent.report.messages import fill
from agent.report.playbook import next_steps

if TYPE_CHECKING:
    from agent.report import ReportInput

__all__ = [
    "FEEDBACK_LABELS",
    "Assets",
    "assets_view",
    "exports_view",
    "factors_view",
    "feedback_view",
    "steps_view",
]

FEEDBACK_LABELS = ("true", "false", "expected")
_SAFE_SCHEMES = ("https://", "http://")


@dataclass(frozen=True)
class Assets:
    """What a page shows beside its words, as addresses relative to the page.

    ``chart`` is the main chart (a file name, or ``cid:…`` in an email); ``causes`` and
    ``segments`` map a finding's index to its causes chart and small multiples;
    ``previous`` maps it to the period and link of the previous report of its episode;
    ``depth`` leads from the page to the reports directory (customer CSV links).
    """

    chart: str
    periods_shown: int
    causes: dict[int, str] = field(default_factory=dict)
    segments: dict[int, str] = field(default_factory=dict)
    previous: dict[int, tuple[datetime, str]] = field(default_factory=dict)
    depth: str = "../"


def assets_view(i: int, inp: ReportInput, msg: dict[str, str], assets: Assets) -> dict[str, Any]:
    """Finding ``i``'s charts and the link to the previous report of its episode."""
    return {
        "causes_chart": assets.causes.get(i, ""),
        "causes_alt": fill(msg["causes_chart_alt"], title=inp.run.title),
        "segments_chart": assets.segments.get(i, ""),
        "segments_alt": fill(
            msg["segments_chart_alt"], title=inp.run.title, n=assets.periods_shown
        ),
        "previous": _previous(assets.previous.get(i), inp, msg),
    }


def _previous(
    previous: tuple[datetime, str] | None, inp: ReportInput, msg: dict[str, str]
) -> dict[str, str] | None:
    if previous is None:
        return None
    date = format_period(previous[0], inp.grain, inp.locale, year=True)
    return {"text": fill(msg["previous_report_of"], date=date), "href": previous[1]}


def factors_view(e: Explanation, locale: str) -> list[dict[str, str]]:
    """One row per factor, the one that moved most first."""
    factors = sorted(e.factors, key=lambda f: abs(f.share), reverse=True)
    return [_factor(f, locale) for f in factors]


def _factor(f: FactorMove, locale: str) -> dict[str, str]:
    unit = f.unit
    return {
        "title": f.title,
        "before": format_value(f.value_before, unit, locale),
        "after": format_value(f.value_after, unit, locale),
        "share": format_share(f.share),
    }


def exports_view(e: Explanation, msg: dict[str, str], depth: str) -> list[dict[str, str]]:
    """A link per customer CSV; ``depth`` leads from the page to the reports directory."""
    return [
        {
            "text": fill(
                msg["export_row"],
                segment=segment_label(x.segment, msg),
                rows=format_number(x.rows),
            ),
            "href": depth + quote(x.path),
            "name": x.path.rsplit("/", 1)[-1],
        }
        for x in e.exports
    ]


def feedback_view(e: Explanation, msg: dict[str, str]) -> list[dict[str, str]]:
    """The verdict links in a fixed order (true, false, expected); only web links."""
    return [
        {"label": msg[f"feedback_{label}"], "href": e.feedback_links[label], "verdict": label}
        for label in FEEDBACK_LABELS
        if e.feedback_links.get(label, "").startswith(_SAFE_SCHEMES)
    ]


def steps_view(inp: ReportInput) -> list[dict[str, Any]]:
    """The playbook's next steps for what the run found, as text and links."""
    steps = next_steps(inp.playbook, inp.run, unit=inp.unit, grain=inp.grain, locale=inp.locale)
    return [
        {"text": s.text, "links": [{"title": x.title, "href": x.url} for x in s.links]}
        for s in steps
    ]
