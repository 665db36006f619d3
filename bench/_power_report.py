"""The tables ``bench.power`` prints from scored replays (``bench._power_score``)."""

from __future__ import annotations

import statistics
from collections.abc import Callable

from bench._power_score import Outcome, Tally

__all__ = ["family_lines", "retailer_lines"]

STRENGTHS = ((0, 2), (2, 4), (4, 8), (8, 16), (16, float("inf")))
SHARES = (("total", 1.0, 1.01), ("10-30%", 0.1, 1.0), ("3-10%", 0.03, 0.1), ("<3%", 0, 0.03))
WITHIN = 3
"""The target's delay: alerted within 3 periods of becoming visible."""
SPIKE_PAGE = 6
"""Spikes below this many daily sigmas should not page."""


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({k / n:.0%})" if n else "-"


def _label(lo: float, hi: float) -> str:
    return f">={lo:g} sd" if hi == float("inf") else f"{lo:g}-{hi:g} sd"


def _grid(outcomes: list[Outcome], hit: Callable[[Outcome], bool], title: str) -> list[str]:
    head = f"  {title:<22}" + "".join(f"{name:>12}" for name, _, _ in SHARES) + f"{'all':>12}"
    lines = [head]
    for lo, hi in STRENGTHS:
        row = [o for o in outcomes if lo <= o.incident["strength"] < hi]
        cells = []
        for _, s_lo, s_hi in SHARES:
            cell = [o for o in row if s_lo <= o.incident["share"] < s_hi]
            cells.append(f"{sum(map(hit, cell))}/{len(cell)}" if cell else "-")
        cells.append(f"{sum(map(hit, row))}/{len(row)}" if row else "-")
        lines.append(f"  {_label(lo, hi):<22}" + "".join(f"{c:>12}" for c in cells))
    return lines


def _median_delay(outcomes: list[Outcome]) -> str:
    delays = [o.delay for o in outcomes if o.delay is not None]
    return f"{statistics.median(delays):g}" if delays else "-"


def _causes(outcomes: list[Outcome]) -> tuple[str, str]:
    named = [o for o in outcomes if o.exact is not None]
    exact = sum(1 for o in named if o.exact)
    overlapping = sum(1 for o in named if o.overlapping)
    return _pct(exact, len(named)), _pct(overlapping, len(named))


def _classes(outcomes: list[Outcome]) -> list[str]:
    lines = [
        f"  {'class':<14}{'n':>4}{'alerted':>14}{'within 3':>14}{'median delay':>14}"
        f"{'top-1 exact':>14}{'overlapping':>14}"
    ]
    for cls in sorted({o.incident["cls"] for o in outcomes}):
        group = [o for o in outcomes if o.incident["cls"] == cls]
        alerted = _pct(sum(o.found for o in group), len(group))
        within = _pct(sum(o.within(WITHIN) for o in group), len(group))
        exact, overlapping = _causes(group)
        lines.append(
            f"  {cls:<14}{len(group):>4}{alerted:>14}{within:>14}{_median_delay(group):>14}"
            f"{exact:>14}{overlapping:>14}"
        )
    return lines


def _share_of(outcomes: list[Outcome], hit: Callable[[Outcome], bool]) -> str:
    return _pct(sum(map(hit, outcomes)), len(outcomes))


def within(o: Outcome) -> bool:
    return o.within(WITHIN)


def found(o: Outcome) -> bool:
    return o.found


def false_rate(tallies: list[Tally]) -> tuple[float, int, int]:
    """False alerts per metric per 90 clean days, the false alerts, the clean metric-days."""
    false = sum(len(t.false) for t in tallies)
    clean = sum(sum(t.clean.values()) for t in tallies)
    return (90 * false / clean if clean else 0.0), false, clean


def false_by_metric(tallies: list[Tally]) -> str:
    """Per metric: its false alerts per 90 of its clean days."""
    metrics = sorted({m for t in tallies for m in t.clean})
    parts = []
    for m in metrics:
        false = sum(1 for t in tallies for a in t.false if a["metric"] == m)
        clean = sum(t.clean.get(m, 0) for t in tallies)
        parts.append(f"{m} {90 * false / clean if clean else 0:.2f}")
    return "  by metric: " + ", ".join(parts)


def family_lines(tallies: list[Tally]) -> list[str]:
    """Detection by strength x share, per class, the target lines, spikes and false alerts."""
    every = [o for t in tallies for o in t.outcomes]
    spikes = [o for o in every if o.incident["cls"] == "spike"]
    incidents = [o for o in every if o.incident["cls"] != "spike"]
    strong = [o for o in incidents if o.incident["strength"] >= 4]
    early = [o for o in incidents if o.incident["early"] >= 4]
    rate, false, clean = false_rate(tallies)
    small = [o for o in spikes if o.incident["peak"] < SPIKE_PAGE]
    big = [o for o in spikes if o.incident["peak"] >= SPIKE_PAGE]
    exact, overlapping = _causes(incidents)
    return [
        "Incidents alerted within 3 periods of becoming visible (found / planted), by",
        "strength (move summed over its duration, in sd of that sum's noise) x segment share:",
        *_grid(incidents, within, "within 3 periods"),
        "",
        *_grid(incidents, found, "alerted at all"),
        "",
        *_classes(every),
        "",
        f"  incidents >= 4 sd: alerted within 3 periods {_share_of(strong, within)}, at all "
        f"{_share_of(strong, found)}   (target >= 90% within 3)",
        f"  incidents >= 4 sd in their first 4 days: within 3 periods {_share_of(early, within)}",
        f"  median delay after visible (alerted incidents): {_median_delay(incidents)} periods",
        f"  top-1 cause of segment incidents: exact {exact}, overlapping {overlapping}",
        f"  false alerts per metric per 90 clean days: {rate:.2f} ({false} alerts in {clean} "
        "clean metric-days)   (target <= 1)",
        false_by_metric(tallies),
        f"  spikes (1-2 days) below {SPIKE_PAGE} sd a day that paged: {_share_of(small, found)}"
        f"   (target 0);  at {SPIKE_PAGE} sd or more: {_share_of(big, found)}",
    ]


def retailer_lines(tallies: list[tuple[int, Tally]]) -> list[str]:
    """Per history its incidents; then the held-out targets' figures."""
    lines = []
    for seed, tally in tallies:
        for o in tally.outcomes:
            i = o.incident
            seg = " & ".join(f"{k}={v}" for k, v in i["segment"].items()) or "total"
            how = "missed"
            if o.alert is not None:
                named = "exact" if o.exact else "overlapping" if o.overlapping else "other"
                named = "-" if o.exact is None else named
                how = f"+{o.delay}d {o.alert['kind']} ({o.alert['severity']}), top-1 {named}"
            lines.append(f"  {seed} {i['what']:<18} {i['metric']:<20} {seg:<34} {how}")
    every = [o for _, t in tallies for o in t.outcomes]
    n = len(every)
    exact = sum(1 for o in every if o.exact or (o.found and o.exact is None))
    overlapping = sum(1 for o in every if o.overlapping or (o.found and o.exact is None))
    rate, false, clean = false_rate([t for _, t in tallies])
    return [
        *lines,
        "",
        f"  alerted {sum(o.found for o in every)}/{n} (target >= 14/15), within 2 periods "
        f"{sum(o.within(2) for o in every)}/{n} (>= 12/15), top-1 exact {exact}/{n} (>= 12/15), "
        f"overlapping {overlapping}/{n} (>= 14/15)",
        f"  false alerts per metric per 90 clean days: {rate:.2f} ({false} in {clean} clean "
        "metric-days)   (target <= 1)",
        false_by_metric([t for _, t in tallies]),
        "  (an incident of the total counts as exact and overlapping when alerted)",
    ]
