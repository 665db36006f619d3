"""A run's findings -> one AlertMessage per episode: the short alert channels send.

The wording is the report's own (headline, numbers, dates in the report's locale), so an
alert and the report it links to never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.message import AlertCause, AlertField, AlertMessage, AlertVoice
from agent.model import Cause, Direction, Episode, Explanation, FindingKind
from agent.report.context import finding_headline, segment_label
from agent.report.formatting import (
    MISSING,
    alert_opened,
    format_change,
    format_delta,
    format_period,
    format_share,
    format_value,
    is_finite,
)
from agent.report.messages import MESSAGES, fill
from agent.report.voices import theme_line

if TYPE_CHECKING:
    from agent.report import ReportInput

__all__ = ["TOP_CAUSES", "build_alerts"]

TOP_CAUSES = 3
"""Causes listed in an alert; the report has the rest."""
_LABELS = {
    "en": {"change": "Change", "top_cause": "Top cause", "segments": "Seen in"},
    "ko": {"change": "변화", "top_cause": "주요 원인", "segments": "나타난 세그먼트"},
}
_ARROWS = {Direction.UP: "↑", Direction.DOWN: "↓"}


def build_alerts(
    inp: ReportInput, *, report_url: str | None = None, owners: list[str] | None = None
) -> list[AlertMessage]:
    """One message per episode of ``inp.run`` (its most severe finding speaks for it)."""
    worst: dict[str, tuple[Episode, Explanation]] = {}
    for e in inp.run.explanations:
        if e.episode is None:
            continue
        key = e.episode.id
        if key not in worst or e.finding.severity.rank > worst[key][1].finding.severity.rank:
            worst[key] = (e.episode, e)
    return [_alert(key, ep, e, inp, report_url, owners or []) for key, (ep, e) in worst.items()]


def _alert(
    key: str,
    episode: Episode,
    e: Explanation,
    inp: ReportInput,
    report_url: str | None,
    owners: list[str],
) -> AlertMessage:
    f, msg = e.finding, MESSAGES[inp.locale]
    return AlertMessage(
        episode_id=key,
        metric=inp.run.metric,
        title=inp.run.title,
        segment=dict(f.segment),
        period=f.period.isoformat(),
        state=str(episode.status),
        severity=str(episode.severity),
        header=_header(e, episode, inp),
        summary=finding_headline(e, inp, msg),
        fields=_fields(e, episode, inp) + _segments(episode, inp),
        causes=[_cause(c, inp) for c in e.causes[:TOP_CAUSES]],
        deviation=abs(f.value - f.expected) if is_finite(f.value - f.expected) else 0.0,
        locale=inp.locale,
        report_url=report_url,
        owners=list(owners),
        voice=_voice(e, msg),
    )


def _voice(e: Explanation, msg: dict[str, str]) -> list[AlertVoice]:
    """Per cause segment with a theme that rose: the themes line and its masked quotes."""
    out = []
    for v in e.voice:
        line = theme_line(v, msg)
        if line:
            quotes = [fill(msg["voice_quote"], text=q.text, theme=q.theme) for q in v.verbatims]
            out.append(AlertVoice(line, quotes))
    return out


def _subject(e: Explanation, inp: ReportInput) -> str:
    msg = MESSAGES[inp.locale]
    segment = e.finding.segment
    if not segment:
        return inp.run.title
    return fill(msg["subject_segment"], title=inp.run.title, segment=segment_label(segment, msg))


def _header(e: Explanation, episode: Episode, inp: ReportInput) -> str:
    """ "Critical · Revisit rate ↓ 4.1 pts"; "Recovered · Revisit rate" when it is over."""
    f, msg = e.finding, MESSAGES[inp.locale]
    subject = _subject(e, inp)
    if f.kind is FindingKind.RECOVERED:
        return f"{msg['kind_recovered']} · {subject}"
    severity = msg[f"severity_{episode.severity}"].capitalize()
    size = format_change(f.value - f.expected, f.expected, inp.unit, inp.locale)
    return f"{severity} · {subject} {_ARROWS[f.direction]}" + (f" {size}" if size else "")


def _fields(e: Explanation, episode: Episode, inp: ReportInput) -> list[AlertField]:
    """The facts a channel shows, the two dates named as the report names them."""
    f, msg, labels = e.finding, MESSAGES[inp.locale], _LABELS[inp.locale]
    top = e.causes[0] if e.causes else None
    unit, locale = inp.unit, inp.locale
    opened = alert_opened(episode)
    return [
        AlertField(msg["value"], format_value(f.value, unit, locale)),
        AlertField(msg["expected"], format_value(f.expected, unit, locale)),
        AlertField(labels["change"], format_delta(f.value - f.expected, unit, locale)),
        AlertField(msg["change_began"], format_period(f.since, inp.grain, locale, year=True)),
        AlertField(msg["alert_open"], format_period(opened, inp.grain, locale, year=True)),
        AlertField(msg["confidence"], format_share(top.confidence) if top else MISSING),
        AlertField(
            labels["top_cause"],
            f"{segment_label(top.segment, msg)} ({format_share(top.share)})" if top else MISSING,
        ),
    ]


def _segments(episode: Episode, inp: ReportInput) -> list[AlertField]:
    """The segments one incident showed in, when there are several (the total, channel=web
    and device=desktop of one checkout bug are one alert)."""
    if len(episode.all_segments) < 2:
        return []
    msg = MESSAGES[inp.locale]
    names = ", ".join(segment_label(s, msg) for s in episode.all_segments)
    return [AlertField(_LABELS[inp.locale]["segments"], names)]


def _cause(c: Cause, inp: ReportInput) -> AlertCause:
    msg, unit, locale = MESSAGES[inp.locale], inp.unit, inp.locale
    before, after = (
        format_value(c.value_before, unit, locale),
        format_value(c.value_after, unit, locale),
    )
    return AlertCause(
        segment=segment_label(c.segment, msg),
        detail=f"{format_share(c.share)} · {before} → {after}",
    )
