"""Findings and causes -> the view-model templates render. Every wording decision is here.

Every reader-visible English string lives in ``MESSAGES["en"]``; patterns use named
fields so another language can reorder them. Templates receive only preformatted
strings, so they make no decisions of their own.
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
)
from agent.report.formatting import (
    MISSING,
    Unit,
    format_change,
    format_delta,
    format_number,
    format_share,
    format_value,
    is_finite,
)

if TYPE_CHECKING:
    from agent.report import ReportInput

__all__ = [
    "MESSAGES",
    "band_text",
    "build_context",
    "episode_text",
    "finding_headline",
    "run_headline",
    "segment_label",
]

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
        "date": "{month} {day}",
        "date_year": "{month} {day}, {year}",
        "month_year": "{month} {year}",
        "week_of": "the week of {date}",
        "since": "since {date}",
        "on_day": "on {date}",
        "in_period": "in {date}",
        "rose": "rose",
        "fell": "fell",
        "points": "{} pts",
        "headline": "{subject} {verb} {change} to {value} {when}",
        "headline_no_size": "{subject} {verb} to {value} {when}",
        "headline_cause": "; {share} of the change is {segment}",
        "headline_none": "No change detected: {subject} was {value} {when}",
        "subject_segment": "{title} ({segment})",
        "all_customers": "all customers",
        "kind_threshold": "Threshold breach",
        "kind_anomaly": "Anomaly",
        "kind_change_point": "Change point",
        "kind_late_data": "Late or missing data",
        "kind_recovered": "Recovered",
        "headline_recovered": "{subject} is back to normal at {value} {when}, "
        "after an episode that began {since}",
        "headline_late": "{subject} is not judged {when}: {reason}",
        "episode": "Alert",
        "episode_new": "new alert",
        "episode_ongoing": "ongoing since {since}, {periods} periods with findings",
        "episode_recovered": "closed: back to normal",
        "episode_pending": "not alerted yet",
        "severity_info": "info",
        "severity_warning": "warning",
        "severity_critical": "critical",
        "no_findings": "no findings",
        "no_change_detail": "Nothing crossed a threshold or left its expected range.",
        "value": "Value",
        "expected": "Expected",
        "band": "Expected range",
        "since_label": "Since",
        "score": "Score",
        "segment": "Segment",
        "reason": "Why",
        "causes": "Causes",
        "no_causes": "No segment explains this change; it is spread across the population.",
        "before_after": "Before → after",
        "size": "Size before → after",
        "contribution": "Contribution",
        "rate_effect": "Rate effect",
        "mix_effect": "Mix effect",
        "share": "Share",
        "confidence": "Confidence",
        "explained": "Explained by these segments",
        "others": "Other segments",
        "checked": "Checked: {dims}, alone and in combinations",
        "ruled_out": "Ruled out",
        "ruled_out_row": "{segment}: {before} → {after} (confidence {confidence})",
        "related": "Same segments, other metrics",
        "related_row": "{title} for {segment}: {before} → {after}",
        "events": "Known events near the onset",
        "event_row": "{name} ({kind}, {dates}){segment}{effect}",
        "event_effect": "; expected to move it {effect}",
        "notes": "Data notes",
        "dimensions": "Segments searched",
        "chart_alt": "{title}: value against the expected range over the last {n} periods",
        "chart_value": "value",
        "chart_expected": "expected",
        "chart_band": "expected range",
        "chart_period": "evaluated period",
        "chart_change": "change point",
        "index_title": "cx-agent reports",
        "runs": "Runs",
        "history": "History per metric",
        "period": "Period",
        "metric": "Metric",
        "severity": "Severity",
        "findings": "Findings",
        "headline_label": "Headline",
        "no_reports": "No reports yet.",
        "unreadable": "Could not read: {names}",
    }
}


def when(dt: datetime, grain: str, msg: dict[str, str], *, year: bool = False) -> str:
    """A period as words for its grain: "Nov 18", "the week of Nov 18", "Nov 2024"."""
    month = msg["months"].split()[dt.month - 1]
    if grain == "month":
        return msg["month_year"].format(month=month, year=dt.year)
    pattern = msg["date_year" if year else "date"]
    date = pattern.format(month=month, day=dt.day, year=dt.year)
    return msg["week_of"].format(date=date) if grain == "week" else date


def _on(dt: datetime, grain: str, msg: dict[str, str]) -> str:
    return msg["on_day" if grain == "day" else "in_period"].format(date=when(dt, grain, msg))


def segment_label(segment: Segment, msg: dict[str, str]) -> str:
    """``{"channel": "app", "device": "android"}`` -> "channel=app & device=android"."""
    if not segment:
        return msg["all_customers"]
    return " & ".join(f"{dim}={val}" for dim, val in segment.items())


def _subject(title: str, segment: Segment, msg: dict[str, str]) -> str:
    if not segment:
        return title
    return msg["subject_segment"].format(title=title, segment=segment_label(segment, msg))


def finding_headline(e: Explanation, inp: ReportInput, msg: dict[str, str]) -> str:
    """E.g. "Revisit rate fell 4.1 pts to 31.2% since Nov 18; 78% of the change is …"."""
    f = e.finding
    if f.kind in _SPECIAL_HEADLINES:
        return _SPECIAL_HEADLINES[f.kind](e, inp, msg)
    change = format_change(f.value - f.expected, f.expected, inp.unit, points=msg["points"])
    moved = f.since < f.period
    text = msg["headline" if change else "headline_no_size"].format(
        subject=_subject(inp.run.title, f.segment, msg),
        verb=msg["rose" if f.direction == Direction.UP else "fell"],
        change=change,
        value=format_value(f.value, inp.unit),
        when=msg["since"].format(date=when(f.since, inp.grain, msg))
        if moved
        else _on(f.period, inp.grain, msg),
    )
    if e.causes:
        top = e.causes[0]
        text += msg["headline_cause"].format(
            share=format_share(top.share), segment=segment_label(top.segment, msg)
        )
    return text + "."


def _recovered_headline(e: Explanation, inp: ReportInput, msg: dict[str, str]) -> str:
    f = e.finding
    return (
        msg["headline_recovered"].format(
            subject=_subject(inp.run.title, f.segment, msg),
            value=format_value(f.value, inp.unit),
            when=_on(f.period, inp.grain, msg),
            since=_on(f.since, inp.grain, msg),
        )
        + "."
    )


def _late_headline(e: Explanation, inp: ReportInput, msg: dict[str, str]) -> str:
    f = e.finding
    return (
        msg["headline_late"].format(
            subject=_subject(inp.run.title, f.segment, msg),
            when=_on(f.period, inp.grain, msg),
            reason=f.reason,
        )
        + "."
    )


_SPECIAL_HEADLINES = {
    FindingKind.RECOVERED: _recovered_headline,
    FindingKind.LATE_DATA: _late_headline,
}


def episode_text(episode: Episode | None, grain: str, msg: dict[str, str]) -> str:
    """E.g. "new alert", "ongoing since Nov 12, 2026, 5 periods with findings"."""
    if episode is None:
        return ""
    return msg[f"episode_{episode.status}"].format(
        since=when(episode.since, grain, msg, year=True), periods=episode.periods
    )


def _most_severe(inp: ReportInput) -> Explanation | None:
    explanations = inp.run.explanations
    return max(explanations, key=lambda e: e.finding.severity.rank) if explanations else None


def run_headline(inp: ReportInput, msg: dict[str, str]) -> str:
    """The most severe finding's headline, or a calm "no change" sentence with the value."""
    top = _most_severe(inp)
    if top is not None:
        return finding_headline(top, inp, msg)
    run = inp.run
    return (
        msg["headline_none"].format(
            subject=run.title,
            value=format_value(run.value, inp.unit),
            when=_on(run.period, inp.grain, msg),
        )
        + "."
    )


def _size(x: float) -> str:
    return format_number(x) if is_finite(x) else MISSING


def _cause_view(c: Cause, inp: ReportInput, msg: dict[str, str]) -> dict[str, str]:
    def delta(x: float) -> str:
        return format_delta(x, inp.unit, points=msg["points"])

    return {
        "segment": segment_label(c.segment, msg),
        "before": format_value(c.value_before, inp.unit),
        "after": format_value(c.value_after, inp.unit),
        "size_before": _size(c.size_before),
        "size_after": _size(c.size_after),
        "contribution": delta(c.contribution),
        "rate_effect": delta(c.rate_effect),
        "mix_effect": delta(c.mix_effect),
        "share": format_share(c.share),
        "confidence": format_share(c.confidence),
    }


def band_text(lower: float, upper: float, unit: Unit) -> str:
    """E.g. "5.0 – 9.0", or "≥ 5.0" / "≤ 9.0" when one side is open (a one-sided limit)."""
    low, high = format_value(lower, unit), format_value(upper, unit)
    if low == MISSING:
        return f"≤ {high}"
    if high == MISSING:
        return f"≥ {low}"
    return f"{low} – {high}"


def _finding_view(e: Explanation, inp: ReportInput, msg: dict[str, str]) -> dict[str, Any]:
    f, unit = e.finding, inp.unit
    return {
        "headline": finding_headline(e, inp, msg),
        "severity": str(f.severity),
        "severity_label": msg[f"severity_{f.severity}"],
        "kind": msg[f"kind_{f.kind}"],
        "episode": episode_text(e.episode, inp.grain, msg),
        "segment": segment_label(f.segment, msg),
        "value": format_value(f.value, unit),
        "expected": format_value(f.expected, unit),
        "band": band_text(f.lower, f.upper, unit),
        "since": when(f.since, inp.grain, msg, year=True),
        "score": f"{f.score:.2f}" if is_finite(f.score) else MISSING,
        "reason": f.reason,
        "causes": [_cause_view(c, inp, msg) for c in e.causes],
        "explained": format_share(e.explained_share),
        "others": format_share(1 - e.explained_share),
        "checked": msg["checked"].format(dims=", ".join(e.checked)) if e.checked else "",
        "ruled_out": [_ruled_out_text(c, inp.unit, msg) for c in e.ruled_out],
        "related": [_related_text(r, msg) for r in e.related],
        "events": [_event_text(ev, inp.grain, msg) for ev in e.events],
    }


def _ruled_out_text(c: Cause, unit: Unit, msg: dict[str, str]) -> str:
    return msg["ruled_out_row"].format(
        segment=segment_label(c.segment, msg),
        before=format_value(c.value_before, unit),
        after=format_value(c.value_after, unit),
        confidence=format_share(c.confidence),
    )


def _related_text(r: Related, msg: dict[str, str]) -> str:
    unit: Unit = r.unit  # type: ignore[assignment]
    return msg["related_row"].format(
        title=r.title,
        segment=segment_label(r.segment, msg),
        before=format_value(r.value_before, unit),
        after=format_value(r.value_after, unit),
    )


def _event_text(ev: KnownEvent, grain: str, msg: dict[str, str]) -> str:
    dates = when(ev.start, "day", msg)
    if ev.end != ev.start:
        dates += " – " + when(ev.end, "day", msg)
    return msg["event_row"].format(
        name=ev.name,
        kind=ev.kind,
        dates=dates,
        segment=f"; {segment_label(ev.segment, msg)}" if ev.segment else "",
        effect=msg["event_effect"].format(effect=ev.effect) if ev.effect else "",
    )


def build_context(
    inp: ReportInput, *, chart_src: str, periods_shown: int, lang: str = "en"
) -> dict[str, Any]:
    """Everything report.html.j2 / report.md.j2 show, as ready-to-print strings."""
    msg, run = MESSAGES[lang], inp.run
    severity = run.severity
    return {
        "lang": lang,
        "t": msg,
        "title": run.title,
        "metric": run.metric,
        "period": when(run.period, inp.grain, msg, year=True),
        "value": format_value(run.value, inp.unit),
        "headline": run_headline(inp, msg),
        "severity": str(severity) if severity else None,
        "severity_label": msg[f"severity_{severity}"] if severity else msg["no_findings"],
        "chart_src": chart_src,
        "chart_alt": msg["chart_alt"].format(title=run.title, n=periods_shown),
        "findings": [_finding_view(e, inp, msg) for e in run.explanations],
        "notes": list(run.notes),
        "dimensions": ", ".join(inp.dimensions),
    }
