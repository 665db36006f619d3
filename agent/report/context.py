"""Findings and causes -> the view-model templates render. Every wording decision is here.

Every reader-visible string comes from the catalog of the report's locale
(``MESSAGES[inp.locale]``, in ``messages.py``); numbers and dates are formatted for that
locale too. Templates receive only preformatted strings, so they make no decisions of
their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent.model import (
    Cause,
    Direction,
    Episode,
    Explanation,
    FindingKind,
    KnownEvent,
    Related,
    Segment,
    Severity,
)
from agent.report.checked import checked_view
from agent.report.formatting import (
    MISSING,
    Unit,
    alert_opened,
    format_change,
    format_date,
    format_delta,
    format_number,
    format_period,
    format_share,
    format_value,
    is_finite,
    segment_label,
)
from agent.report.messages import MESSAGES, fill
from agent.report.parts import (
    Assets,
    assets_view,
    exports_view,
    factors_view,
    feedback_view,
    steps_view,
)
from agent.report.voices import voice_view
from agent.report.wording import Wording

if TYPE_CHECKING:
    from agent.report import ReportInput

__all__ = [
    "MESSAGES",
    "Assets",
    "band_text",
    "build_context",
    "episode_text",
    "finding_headline",
    "headline_rank",
    "run_headline",
    "segment_label",
]


def _on(dt: datetime, inp: ReportInput, msg: dict[str, str]) -> str:
    date = format_period(dt, inp.grain, inp.locale)
    key = {"day": "on_day", "hour": "at_time"}.get(inp.grain, "in_period")
    return fill(msg[key], date=date)


def _subject(title: str, segment: Segment, msg: dict[str, str]) -> str:
    if not segment:
        return title
    return fill(msg["subject_segment"], title=title, segment=segment_label(segment, msg))


def finding_headline(e: Explanation, inp: ReportInput, msg: dict[str, str]) -> str:
    """E.g. "Revisit rate fell 4.1 pts to 31.2% (the change began on Nov 18); 78% of the
    change is …".

    ``msg`` is the catalog of ``inp.locale``, which also sets how numbers and dates read.
    """
    f = e.finding
    if f.kind in _SPECIAL_HEADLINES:
        return _SPECIAL_HEADLINES[f.kind](e, inp, msg)
    change = format_change(f.value - f.expected, f.expected, inp.unit, inp.locale)
    text = fill(
        msg["headline" if change else "headline_no_size"],
        subject=_subject(inp.run.title, f.segment, msg),
        verb=msg["rose" if f.direction == Direction.UP else "fell"],
        change=change,
        value=format_value(f.value, inp.unit, inp.locale),
        began=fill(msg["began"], when=_on(f.since, inp, msg)),
    )
    if e.causes:
        top = e.causes[0]
        text += fill(
            msg["headline_cause"],
            share=format_share(top.share),
            segment=segment_label(top.segment, msg),
        )
    return text + "."


def _recovered_headline(e: Explanation, inp: ReportInput, msg: dict[str, str]) -> str:
    f = e.finding
    opened = alert_opened(e.episode) if e.episode else f.since
    text = fill(
        msg["headline_recovered"],
        subject=_subject(inp.run.title, f.segment, msg),
        value=format_value(f.value, inp.unit, inp.locale),
        when=_on(f.period, inp, msg),
        opened=format_period(opened, inp.grain, inp.locale),
    )
    return text + "."


def _late_headline(e: Explanation, inp: ReportInput, msg: dict[str, str]) -> str:
    f = e.finding
    text = fill(
        msg["headline_late"],
        subject=_subject(inp.run.title, f.segment, msg),
        when=_on(f.period, inp, msg),
        reason=_wording(inp)(f.reason),
    )
    return text + "."


_SPECIAL_HEADLINES = {
    FindingKind.RECOVERED: _recovered_headline,
    FindingKind.LATE_DATA: _late_headline,
}


def episode_text(episode: Episode | None, inp: ReportInput, msg: dict[str, str]) -> str:
    """E.g. "new alert, open since Nov 12, 2026", "ongoing, alert open since Nov 12, 2026;
    5 periods with findings"."""
    if episode is None:
        return ""
    return fill(
        msg[f"episode_{episode.status}"],
        opened=format_period(alert_opened(episode), inp.grain, inp.locale, year=True),
        periods=episode.periods,
    )


def headline_rank(kind: str, severity: str, status: str | None) -> tuple[bool, int]:
    """Which finding a report's headline (and its index row) speaks of: the highest rank,
    the first of equals. An open alert before anything else, then the most severe."""
    alerting = status in ("new", "ongoing") and kind != FindingKind.LATE_DATA
    return alerting, Severity(severity).rank


def _headline_finding(inp: ReportInput) -> Explanation | None:
    def rank(e: Explanation) -> tuple[bool, int]:
        status = e.episode.status if e.episode else None
        return headline_rank(e.finding.kind, e.finding.severity, status)

    explanations = inp.run.explanations
    return max(explanations, key=rank) if explanations else None


def run_headline(inp: ReportInput, msg: dict[str, str]) -> str:
    """The headline of the finding ``headline_rank`` puts first (an open alert, the most
    severe), or a calm "no change" sentence with the value.

    ``msg`` is the catalog of ``inp.locale``.
    """
    top = _headline_finding(inp)
    if top is not None:
        return finding_headline(top, inp, msg)
    run = inp.run
    text = fill(
        msg["headline_none"],
        subject=run.title,
        value=format_value(run.value, inp.unit, inp.locale),
        when=_on(run.period, inp, msg),
    )
    return text + "."


def _size(x: float) -> str:
    return format_number(x) if is_finite(x) else MISSING


def _cause_view(c: Cause, inp: ReportInput, msg: dict[str, str]) -> dict[str, str]:
    def delta(x: float) -> str:
        return format_delta(x, inp.unit, inp.locale)

    return {
        "segment": segment_label(c.segment, msg),
        "before": format_value(c.value_before, inp.unit, inp.locale),
        "after": format_value(c.value_after, inp.unit, inp.locale),
        "size_before": _size(c.size_before),
        "size_after": _size(c.size_after),
        "contribution": delta(c.contribution),
        "rate_effect": delta(c.rate_effect),
        "mix_effect": delta(c.mix_effect),
        "share": format_share(c.share),
        "confidence": format_share(c.confidence),
    }


def band_text(lower: float, upper: float, unit: Unit, locale: str = "en") -> str:
    """E.g. "5.0 – 9.0", or "≥ 5.0" / "≤ 9.0" when one side is open (a one-sided limit)."""
    low, high = format_value(lower, unit, locale), format_value(upper, unit, locale)
    if low == high == MISSING:
        return MISSING
    if low == MISSING:
        return f"≤ {high}"
    if high == MISSING:
        return f"≥ {low}"
    return f"{low} – {high}"


def _wording(inp: ReportInput) -> Wording:
    return Wording(inp.locale, inp.unit, inp.grain)


def _finding_view(
    i: int, e: Explanation, inp: ReportInput, msg: dict[str, str], assets: Assets
) -> dict[str, Any]:
    """Finding ``i`` of the run, with its charts and links from ``assets``."""
    return (
        _facts_view(e, inp, msg)
        | assets_view(i, inp, msg, assets)
        | {
            "factors": factors_view(e, inp.locale),
            "exports": exports_view(e, msg, assets.depth),
            "feedback": feedback_view(e, msg),
            "voice": voice_view(e, msg),
        }
    )


def _facts_view(e: Explanation, inp: ReportInput, msg: dict[str, str]) -> dict[str, Any]:
    f, unit, locale = e.finding, inp.unit, inp.locale
    return {
        "headline": finding_headline(e, inp, msg),
        "severity": str(f.severity),
        "severity_label": msg[f"severity_{f.severity}"],
        "kind": msg[f"kind_{f.kind}"],
        "episode": episode_text(e.episode, inp, msg),
        "segment": segment_label(f.segment, msg),
        "value": format_value(f.value, unit, locale),
        "expected": format_value(f.expected, unit, locale),
        "band": band_text(f.lower, f.upper, unit, locale),
        "began": format_period(f.since, inp.grain, locale, year=True),
        "score": f"{f.score:.2f}" if is_finite(f.score) else MISSING,
        "reason": _wording(inp)(f.reason),
        "causes": [_cause_view(c, inp, msg) for c in e.causes],
        "explained": format_share(e.explained_share),
        "others": format_share(1 - e.explained_share),
        "checked": fill(msg["checked"], dims=", ".join(e.checked)) if e.checked else "",
        "related": [_related_text(r, locale, msg) for r in e.related],
        "events": [_event_text(ev, locale, msg) for ev in e.events],
    } | checked_view(e, inp, msg)


def _related_text(r: Related, locale: str, msg: dict[str, str]) -> str:
    unit = r.unit
    return fill(
        msg["related_row"],
        title=r.title,
        segment=segment_label(r.segment, msg),
        before=format_value(r.value_before, unit, locale),
        after=format_value(r.value_after, unit, locale),
    )


def _event_text(ev: KnownEvent, locale: str, msg: dict[str, str]) -> str:
    dates = format_date(ev.start, locale)
    if ev.end != ev.start:
        dates += " – " + format_date(ev.end, locale)
    effect = msg[f"effect_{ev.effect}"] if ev.effect else ""
    return fill(
        msg["event_row"],
        name=ev.name,
        kind=msg.get(f"event_kind_{ev.kind}", ev.kind),  # a warehouse table may add kinds
        dates=dates,
        segment=f"; {segment_label(ev.segment, msg)}" if ev.segment else "",
        effect=fill(msg["event_effect"], effect=effect) if effect else "",
    )


def build_context(inp: ReportInput, assets: Assets) -> dict[str, Any]:
    """Everything report.html.j2 / report.md.j2 show, as ready-to-print strings, in the
    report's locale (``inp.locale``)."""
    msg, run = MESSAGES[inp.locale], inp.run
    severity = run.severity
    return {
        "lang": inp.locale,
        "t": msg,
        "title": run.title,
        "metric": run.metric,
        "period": format_period(run.period, inp.grain, inp.locale, year=True),
        "value": format_value(run.value, inp.unit, inp.locale),
        "headline": run_headline(inp, msg),
        "severity": str(severity) if severity else None,
        "severity_label": msg[f"severity_{severity}"] if severity else msg["no_findings"],
        "chart_src": assets.chart,
        "chart_alt": fill(msg["chart_alt"], title=run.title, n=assets.periods_shown),
        "findings": [_finding_view(i, e, inp, msg, assets) for i, e in enumerate(run.explanations)],
        "notes": [_wording(inp)(note) for note in run.notes],
        "next_steps": steps_view(inp),
        "dimensions": ", ".join(inp.dimensions),
    }
