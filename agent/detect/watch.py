"""Segment watch: detection on many segments without multiplying false alarms.

Watching 500 segments with a test that errs once in 1,000 periods errs 500 times as
often as watching the total. Every finding carries a p-value (the accumulated evidence
of :mod:`agent.detect.evidence`, or a band's normal tail), and the Benjamini–Hochberg
procedure keeps only the findings that stay significant at the false-discovery rate
``q`` among all the segments and directions tested in that period.

The default ``q`` is one calm series' chance of a warning in a period (the one-sided
tail beyond the anomaly band, 0.13 % at medium sensitivity): with every segment calm,
BH at ``q`` alarms in at most a share ``q`` of periods, so watching every segment
alarms about as rarely as watching the total alone.
"""

from __future__ import annotations

import math

import numpy as np

from agent.detect.bands import Sensitivity, Z
from agent.detect.registry import band_z
from agent.model import Finding

__all__ = ["discoveries", "p_value", "single_series_rate"]


def p_value(finding: Finding, sensitivity: Sensitivity = "medium") -> float:
    """The finding's own p-value; for a band finding without one, the one-sided normal
    tail of its distance from the baseline; 1 (no evidence) for rules and other kinds.

    The band of the finding's detector is ``band_z`` noise sigmas wide on each side
    (``Detector.band_z``), so the distance from the baseline in sigmas is
    ``|value - expected| / half-width * band_z``.
    """
    if finding.p_value is not None:
        return finding.p_value
    z = band_z(finding.kind, sensitivity)
    half = (finding.upper - finding.lower) / 2
    if z is None or not math.isfinite(half) or half <= 0:
        return 1.0
    return _tail(abs(finding.value - finding.expected) / half * z)


def single_series_rate(sensitivity: Sensitivity) -> float:
    """Chance that one calm series shows a warning in a period, on one side."""
    return _tail(Z[sensitivity])


def _tail(z: float) -> float:
    """P(N(0, 1) > z), by ``erfc``: exact far into the tail, where 1 - cdf is 0."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def discoveries(p_values: np.ndarray, q: float) -> np.ndarray:
    """Which ``p_values`` (every test of the period; NaN counts as 1) are discoveries of
    the Benjamini–Hochberg procedure at false-discovery rate ``q``."""
    p = np.nan_to_num(np.asarray(p_values, dtype=float), nan=1.0)
    if len(p) == 0:
        return np.zeros(0, dtype=bool)
    # imported on use: see agent/__init__.py
    from statsmodels.stats.multitest import multipletests

    return np.asarray(multipletests(np.clip(p, 0.0, 1.0), alpha=q, method="fdr_bh")[0])
