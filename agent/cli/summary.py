"""One-screen console summaries of runs (the CLI prints them)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.model import Cause, Episode, EpisodeStatus, Explanation, RunResult
from agent.sources.demo import Incident

if TYPE_CHECKING:
    from agent.pipeline import Backfill

__all__ = [
    "backfill_json",
    "backfill_lines",
    "demo_summary",
    "first_alert_naming",
    "segment_text",
]


def segment_text(segment: dict[str, str]) -> str:
    return " & ".join(f"{k}={v}" for k, v in segment.items()) or "all customers"


def _causes_text(causes: list[Cause], top: int = 3) -> str:
    return ", ".join(f"{segment_text(c.segment)} ({c.share:.0%})" for c in causes[:top]) or "-"


def _latest(results: list[RunResult]) -> tuple[RunResult, Explanation] | None:
    for result in reversed(results):
        if result.explanations:
            return result, result.explanations[0]
    return None


def demo_summary(runs: dict[str, list[RunResult]], incidents: list[Incident]) -> list[str]:
    """Per metric: alerts sent and the latest finding; per planted incident: was it caught."""
    lines = ["", f"{'metric':<22} {'last value':>12}  {'alerts':>6}  latest finding"]
    for name, results in runs.items():
        last = results[-1].value if results else None
        alerts = len({ep.id for r in results for ep in _new_episodes(r)})
        latest = _latest(results)
        what = "-"
        if latest:
            result, exp = latest
            what = (
                f"{result.period:%Y-%m-%d} {exp.finding.kind.value} {exp.finding.direction.value}"
                f" since {exp.finding.since:%Y-%m-%d}: {_causes_text(exp.causes)}"
            )
        shown = "no data" if last is None else f"{last:,.4g}"
        lines.append(f"{name:<22} {shown:>12}  {alerts:>6}  {what}")
    lines += ["", "Planted incidents:"]
    lines += [_incident_line(i, runs.get(i.metric, [])) for i in incidents]
    return lines + [""]


def first_alert_naming(
    incident: Incident, results: list[RunResult]
) -> tuple[RunResult, Explanation] | None:
    """The first run from the day the incident is visible on with a finding that names
    the incident's segment: its own (a watched segment's) or one of its top 3 causes."""
    wanted = set(incident.segment.items())
    for result in results:
        if _before(result.period, incident):
            continue
        for exp in result.explanations:
            named = [exp.finding.segment] if exp.finding.segment else []
            if any(set(s.items()) <= wanted for s in named + [c.segment for c in exp.causes[:3]]):
                return result, exp
    return None


def _incident_line(incident: Incident, results: list[RunResult]) -> str:
    visible = f", visible from {incident.visible}" if incident.visible != incident.onset else ""
    onset = f"{incident.starts:%Y-%m-%d %H:%M}" if incident.hour is not None else incident.onset
    head = f"  {incident.what} [{incident.metric}, onset {onset}{visible}]"
    hit = first_alert_naming(incident, results)
    if hit is None:
        return f"{head}: not found in the top causes of any alert"
    result, exp = hit
    segment = exp.finding.segment
    where = f"in {segment_text(segment)}, " if segment else ""
    return (
        f"{head}: alerted {_when(result.period, incident)}, {exp.finding.kind.value}); "
        f"{where}top causes {_causes_text(exp.causes)}"
    )


def _before(period: datetime, incident: Incident) -> bool:
    """Whether ``period`` lies before the incident can show (for an hourly incident: before
    its onset hour, in wall-clock time)."""
    if incident.hour is None:
        return period.date() < incident.visible
    return period.replace(tzinfo=None) < incident.starts


def _when(period: datetime, incident: Incident) -> str:
    """When the alert came and how long after the incident could show: in days, or for an
    hourly incident in hours from its onset to the end of the hour that alerted (the hour
    is judged once it is complete)."""
    if incident.hour is None:
        return f"{period:%Y-%m-%d} (+{(period.date() - incident.visible).days}d"
    hours = (period.replace(tzinfo=None) + timedelta(hours=1) - incident.starts) / timedelta(
        hours=1
    )
    return f"{period:%Y-%m-%d %H:%M} (+{hours:.0f}h after {incident.starts:%H:%M}"


def _new_episodes(result: RunResult) -> list[Episode]:
    """The episodes that alert for the first time in ``result`` (one per incident)."""
    found = [e.episode for e in result.explanations if e.episode is not None]
    return [ep for ep in found if ep.status is EpisodeStatus.NEW]


def backfill_lines(results: list[Backfill], first: date, last: date) -> list[str]:
    """The backfill table: per metric, the alerts that would have fired and when."""
    lines = [
        f"Backfill {first} .. {last} (replayed with each metric's alert policy; nothing sent)",
        "",
        f"{'metric':<22} {'periods':>7} {'with findings':>13} {'alerts':>6}  alerted on",
    ]
    for b in results:
        when = ", ".join(
            f"{a.last_seen:%Y-%m-%d} {' + '.join(segment_text(s) for s in a.all_segments)} "
            f"{a.direction.value} ({a.severity.value})"
            for a in b.alerts
        )
        lines.append(
            f"{b.metric:<22} {b.periods:>7} {b.periods_with_findings:>13} {len(b.alerts):>6}  "
            f"{when or '-'}"
        )
    return lines


def backfill_json(results: list[Backfill], first: date, last: date) -> dict[str, Any]:
    """The backfill as data (``cx-agent backfill --json``): per metric what was replayed,
    and every alert with the finding it was raised with and its causes, so a replay can
    be scored against known incidents without a run per alert."""
    return {
        "start": first.isoformat(),
        "end": last.isoformat(),
        "metrics": [
            {
                "metric": b.metric,
                "periods": b.periods,
                "periods_with_findings": b.periods_with_findings,
                "alerts": len(b.alerts),
            }
            for b in results
        ],
        "alerts": [_alert_record(e) for b in results for e in b.raised],
    }


def _alert_record(e: Explanation) -> dict[str, Any]:
    f, episode = e.finding, e.episode
    return {
        "date": f.period.date().isoformat(),
        "metric": f.metric,
        "segment": dict(f.segment),
        "segments": [dict(s) for s in (episode.all_segments if episode else (f.segment,))],
        "severity": (episode.severity if episode else f.severity).value,
        "kind": f.kind.value,
        "direction": f.direction.value,
        "since": (episode.since if episode else f.since).date().isoformat(),
        "value": _number(f.value),
        "expected": _number(f.expected),
        "causes": [
            {
                "segment": dict(c.segment),
                "share": _number(c.share),
                "confidence": _number(c.confidence),
            }
            for c in e.causes
        ],
    }


def _number(x: float) -> float | None:
    """``x`` for JSON: rounded to 6 significant digits; None when not finite."""
    return float(f"{x:.6g}") if math.isfinite(x) else None
