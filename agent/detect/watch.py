"""Segment watch: detection on every segment, without multiplying false alarms.

Watching 50 segments with a detector that errs once in 1,000 periods errs 50 times
as often as watching the total. Each segment finding gets a p-value (the two-sided
normal tail of its distance from the baseline, in noise standard deviations), and
the Benjamini–Hochberg procedure keeps only the findings that stay significant at
the false-discovery rate ``q`` among all the segments tested in that period.

The default ``q`` is the detector's own false-alarm rate on one series (the two-sided
tail beyond its band, 0.27 % at medium sensitivity): with every segment calm, BH at
``q`` alarms in at most a share ``q`` of periods, so watching 50 segments alarms about
as rarely as watching the total alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from agent.detect.bands import Sensitivity, Z
from agent.detect.changepoint import BAND
from agent.model import Finding, FindingKind

__all__ = ["benjamini_hochberg", "control_fdr", "p_value", "single_series_rate"]


def p_value(finding: Finding, sensitivity: Sensitivity = "medium") -> float:
    """Two-sided p-value of a band-based finding; 0 for kinds without a noise band.

    The anomaly band is ``Z[sensitivity]`` noise sigmas wide on each side, the
    change-point band ``BAND`` sigmas, so the distance from the baseline in sigmas
    is ``|value - expected| / half-width * band_z``.
    """
    band_z = {FindingKind.ANOMALY: Z[sensitivity], FindingKind.CHANGE_POINT: BAND}.get(finding.kind)
    half = (finding.upper - finding.lower) / 2
    if band_z is None or not math.isfinite(half) or half <= 0:
        return 0.0
    z = abs(finding.value - finding.expected) / half * band_z
    return _two_sided(z)


def single_series_rate(sensitivity: Sensitivity) -> float:
    """Chance that one calm series leaves its band in a period (two-sided normal tail)."""
    return _two_sided(Z[sensitivity])


def _two_sided(z: float) -> float:
    """P(|N(0, 1)| > z), by ``erfc``: exact far into the tail, where 1 - cdf is 0."""
    return math.erfc(z / math.sqrt(2))


def benjamini_hochberg(p_values: Sequence[float], q: float, tests: int) -> list[bool]:
    """Which of ``p_values`` are discoveries at false-discovery rate ``q`` among
    ``tests`` hypotheses (the ones not listed had no finding, so larger p-values)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    passed = 0
    for rank, i in enumerate(order, start=1):
        if p_values[i] <= rank / max(tests, len(p_values)) * q:
            passed = rank
    keep = set(order[:passed])
    return [i in keep for i in range(len(p_values))]


def control_fdr(
    findings: list[Finding], tests: int, q: float | None, sensitivity: Sensitivity = "medium"
) -> list[Finding]:
    """The segment findings that survive Benjamini–Hochberg at rate ``q`` (None: the
    single-series false-alarm rate of ``sensitivity``)."""
    rate = q if q is not None else single_series_rate(sensitivity)
    keep = benjamini_hochberg([p_value(f, sensitivity) for f in findings], rate, tests)
    return [f for f, k in zip(findings, keep, strict=True) if k]
