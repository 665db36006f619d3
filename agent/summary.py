"""One-screen console summaries of runs (the CLI prints them)."""

from __future__ import annotations

from agent.model import Cause, Explanation, RunResult
from agent.sources.demo import Incident

__all__ = ["demo_summary", "first_alert_naming", "segment_text"]


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
    """Per metric: alert days and the latest finding; per planted incident: was it caught."""
    days = max((len(r) for r in runs.values()), default=0)
    lines = ["", f"{'metric':<22} {'last value':>12}  {'alert days':>10}  latest finding"]
    for name, results in runs.items():
        last = results[-1].value if results else None
        alert_days = sum(1 for r in results if r.explanations)
        latest = _latest(results)
        what = "-"
        if latest:
            result, exp = latest
            what = (
                f"{result.period:%Y-%m-%d} {exp.finding.kind.value} {exp.finding.direction.value}"
                f" since {exp.finding.since:%Y-%m-%d}: {_causes_text(exp.causes)}"
            )
        shown = "no data" if last is None else f"{last:,.4g}"
        lines.append(f"{name:<22} {shown:>12}  {alert_days:>4}/{days:<5}  {what}")
    lines += ["", "Planted incidents:"]
    lines += [_incident_line(i, runs.get(i.metric, [])) for i in incidents]
    return lines + [""]


def first_alert_naming(
    incident: Incident, results: list[RunResult]
) -> tuple[RunResult, Explanation] | None:
    """The first run from the onset on whose top 3 causes name the incident's segment."""
    wanted = set(incident.segment.items())
    for result in results:
        if result.period.date() < incident.onset:
            continue
        for exp in result.explanations:
            if any(set(c.segment.items()) <= wanted for c in exp.causes[:3]):
                return result, exp
    return None


def _incident_line(incident: Incident, results: list[RunResult]) -> str:
    head = f"  {incident.what} [{incident.metric}, onset {incident.onset}]"
    hit = first_alert_naming(incident, results)
    if hit is None:
        return f"{head}: not found in the top causes of any alert"
    result, exp = hit
    lag = (result.period.date() - incident.onset).days
    return (
        f"{head}: alerted {result.period:%Y-%m-%d} (+{lag}d, {exp.finding.kind.value}); "
        f"top causes {_causes_text(exp.causes)}"
    )
