"""Anomalies against a seasonal baseline with a sample-size-aware band.

The baseline and band come from :func:`agent.detect.bands.seasonal_band` (the baseline
model is chosen per metric by a backtest, :mod:`agent.detect.baselines`). Severity is
WARNING outside the band and CRITICAL beyond twice its half-width; ``score`` is the
distance from the baseline in half-widths (1 = on the edge of the band).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from agent.cube import MetricSeries
from agent.detect.bands import (
    DetectorBase,
    band_frame,
    last_is_judged,
    run_start,
    severity_of,
)
from agent.model import Direction, Finding, Note

__all__ = ["AnomalySpec", "SeasonalDetector"]


class AnomalySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sensitivity: Literal["low", "medium", "high"] = "medium"


class SeasonalDetector(DetectorBase[AnomalySpec]):
    kind: ClassVar[str] = "anomaly"
    spec_type: ClassVar[type[BaseModel]] = AnomalySpec

    def detect(self, series: MetricSeries) -> list[Finding]:
        if not last_is_judged(series):
            return []
        return self._judge(series, band_frame(series, self.spec.sensitivity))

    def detect_periods(
        self, series: MetricSeries, periods: list[pd.Timestamp]
    ) -> dict[pd.Timestamp, list[Finding]]:
        """One band for the whole series: each period's band reads only earlier periods,
        so cutting the series at a period changes nothing up to it."""
        frame = band_frame(series, self.spec.sensitivity)
        out = {}
        for period in periods:
            known = series.upto(period)
            out[period] = self._judge(known, frame.loc[:period]) if last_is_judged(known) else []
        return out

    def _judge(self, series: MetricSeries, frame: pd.DataFrame) -> list[Finding]:
        """The finding about the last period of ``series``, whose band rows are ``frame``."""
        band = frame[["expected", "lower", "upper"]]
        side = _side(series.value, band)
        if side.iloc[-1] == 0:
            return []
        direction = Direction.UP if side.iloc[-1] > 0 else Direction.DOWN
        if not self.reports(direction):
            return []
        value = float(series.value.iloc[-1])
        expected, lower, upper = (float(x) for x in band.iloc[-1])
        score = abs(value - expected) / ((upper - lower) / 2)
        return [
            self.finding(
                series,
                value=value,
                expected=expected,
                band=(lower, upper),
                direction=direction,
                severity=severity_of(score, 1.0, 2.0),
                score=score,
                since=run_start(side[series.judged] == side.iloc[-1]),
                reason=Note(
                    f"reason_anomaly_{direction}",
                    {
                        "value": value,
                        "lower": lower,
                        "upper": upper,
                        "expected": expected,
                        "model": str(frame["model"].iloc[-1]),
                    },
                ),
            )
        ]


def _side(values: pd.Series, band: pd.DataFrame) -> pd.Series:
    """+1 above the band, -1 below it, 0 inside it or where there is no band."""
    above = (values > band["upper"]).to_numpy()
    below = (values < band["lower"]).to_numpy()
    return pd.Series(np.where(above, 1, np.where(below, -1, 0)), index=values.index)
