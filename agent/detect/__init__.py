"""The detect stage: threshold rules, seasonal anomalies and change points.

Each detector judges only the last period of a series; callers replay history by
calling it on ``series.upto(day)``.

How to add a detector: write a class with the ClassVars of
:class:`agent.detect.base.Detector` (``kind``, the metrics.yaml key under ``detect:``;
``spec_type``, its pydantic options model; its ``finding_kinds``, ``tunable`` options,
``on_segments`` and ``band_z``: :class:`agent.detect.bands.DetectorBase`
gives the defaults), an ``__init__(spec, *, good, alert_on="bad")`` and a pure
``detect(series)``; add it to ``DETECTORS`` in :mod:`agent.detect.registry`, and its
finding kind to ``model.FindingKind`` and the message catalogs; it then runs through
``tests/detect/test_contract.py``. Band maths shared by detectors belongs in
:mod:`agent.detect.bands`.
"""

from __future__ import annotations

import pandas as pd

from agent.cube import MetricSeries
from agent.detect.base import Detector
from agent.detect.changepoint import ChangePointDetector, ChangePointSpec
from agent.detect.registry import DETECTORS, band_z, detector_of, segment_detector
from agent.detect.seasonal import AnomalySpec, SeasonalDetector
from agent.detect.threshold import ThresholdDetector, ThresholdSpec
from agent.model import Finding

__all__ = [
    "DETECTORS",
    "AnomalySpec",
    "ChangePointDetector",
    "ChangePointSpec",
    "Detector",
    "SeasonalDetector",
    "ThresholdDetector",
    "ThresholdSpec",
    "band_z",
    "detect",
    "detect_periods",
    "detector_of",
    "segment_detector",
]


def detect(series: MetricSeries, detectors: list[Detector]) -> list[Finding]:
    """Run every detector on the series' last period; findings in detector order."""
    return [finding for detector in detectors for finding in detector.detect(series)]


def detect_periods(
    series: MetricSeries, detectors: list[Detector], periods: list[pd.Timestamp]
) -> dict[pd.Timestamp, list[Finding]]:
    """``detect`` as if run on the series cut at each of ``periods``, in one pass per
    detector (a replay judges weeks of periods); findings in detector order."""
    out: dict[pd.Timestamp, list[Finding]] = {p: [] for p in periods}
    for detector in detectors:
        for period, found in detector.detect_periods(series, periods).items():
            out[period].extend(found)
    return out
