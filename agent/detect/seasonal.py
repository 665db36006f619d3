"""Anomalies against a seasonal baseline with a sample-size-aware band, and moves that
last: evidence accumulated since their onset.

The baseline and band come from :func:`agent.detect.bands.seasonal_band` (the baseline
model is chosen per metric by a backtest, :mod:`agent.detect.baselines`). ``score`` is
the distance from the baseline in half-widths (1 = on the edge of the band).

For daily, weekly and monthly series one period outside the band is news only when it
is far off: CRITICAL when its own z (against the noise the accumulated evidence uses,
:func:`agent.detect.sustained.spike_z`: 6 sigmas at medium) says so, else INFO (shown,
not sent), so a one- or two-period blip does not page. A move that lasts pages on its
accumulated evidence (:mod:`agent.detect.evidence`): once the shift since its onset,
measured against the noise of the periods it has lasted, is as unlikely as leaving the
band on one side (:func:`agent.detect.sustained.warning_p`), the finding is a WARNING
even when every period alone sits inside the band; ``since`` is then that onset,
``value`` the mean since it, ``expected`` the mean before it and ``score`` the
accumulated evidence in noise sigmas. Sub-daily series keep one-period grading
(WARNING outside the band, CRITICAL beyond twice its half-width).
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from agent.cube import MetricSeries
from agent.detect.bands import (
    DetectorBase,
    Z,
    band_frame,
    last_is_judged,
    run_start,
    severity_of,
)
from agent.detect.evidence import Scan
from agent.detect.sustained import (
    Rows,
    noise_kind,
    reason,
    severity_of_p,
    spike_z,
    warning_p,
)
from agent.model import Direction, Finding, FindingKind, Note, Severity

__all__ = ["AnomalySpec", "SeasonalDetector"]


class AnomalySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sensitivity: Literal["low", "medium", "high"] = "medium"


class SeasonalDetector(DetectorBase[AnomalySpec]):
    kind: ClassVar[str] = "anomaly"
    spec_type: ClassVar[type[BaseModel]] = AnomalySpec
    finding_kinds: ClassVar[tuple[FindingKind, ...]] = (FindingKind.ANOMALY,)
    tunable: ClassVar[tuple[str, ...]] = ("sensitivity",)
    on_segments: ClassVar[bool] = True

    @classmethod
    def band_z(cls, sensitivity: str) -> float | None:
        return Z[sensitivity]

    def detect(self, series: MetricSeries) -> list[Finding]:
        if not last_is_judged(series):
            return []
        return self.detect_periods(series, [series.frame.index[-1]])[series.frame.index[-1]]

    def detect_periods(
        self, series: MetricSeries, periods: list[pd.Timestamp]
    ) -> dict[pd.Timestamp, list[Finding]]:
        """One band for the whole series: each period's band reads only earlier periods,
        so cutting the series at a period changes nothing up to it; the same holds for
        the accumulated evidence, computed at each period from the rows up to it."""
        frame = band_frame(series, self.spec.sensitivity)
        rows = Rows.of(series.judged)
        kinds = noise_kind(series)
        values = series.value.to_numpy(dtype=float)[:, None]
        den = series.den.to_numpy(dtype=float)[:, None]
        out: dict[pd.Timestamp, list[Finding]] = {}
        for period in periods:
            known = series.upto(period)
            if not last_is_judged(known):
                out[period] = []
                continue
            kind = str(kinds[len(known.frame) - 1])
            needed = warning_p(self.spec.sensitivity)
            scans = None if rows is None else rows.scan(values, den, period, kind, needed)
            out[period] = self._judge(known, frame.loc[:period], scans)
        return out

    def _judge(
        self, series: MetricSeries, frame: pd.DataFrame, scans: tuple[Scan, Scan] | None
    ) -> list[Finding]:
        """The finding about the last period of ``series``, whose band rows are ``frame``
        and accumulated evidence ``scans`` (None: sub-daily, one-period grading)."""
        sustained = self._sustained(series, frame, scans)
        if sustained is not None:
            return [sustained]
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
        severity = severity_of(score, 1.0, 2.0)
        if scans is not None:  # one period pages only when far off (the evidence's z)
            spike = float(scans[0 if direction is Direction.DOWN else 1].spike[0])
            far = spike >= spike_z(self.spec.sensitivity)
            severity = Severity.CRITICAL if far else Severity.INFO
        return [
            self.finding(
                series,
                value=value,
                expected=expected,
                band=(lower, upper),
                direction=direction,
                severity=severity,
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
                p_value=_normal_tail(score * Z[self.spec.sensitivity]),
            )
        ]

    def _sustained(
        self, series: MetricSeries, frame: pd.DataFrame, scans: tuple[Scan, Scan] | None
    ) -> Finding | None:
        """The finding of a move whose accumulated evidence reaches a warning, if any."""
        if scans is None:
            return None
        sensitivity = self.spec.sensitivity
        candidates = [
            (float(found.p[0]), direction, found)
            for direction, found in zip((Direction.DOWN, Direction.UP), scans, strict=True)
            if self.reports(direction) and float(found.p[0]) <= warning_p(sensitivity)
        ]
        if not candidates:
            return None
        best = min(candidates, key=lambda c: c[0])
        p, direction, found = best
        lower, upper = (float(x) for x in frame[["lower", "upper"]].iloc[-1])
        if not (math.isfinite(lower) and math.isfinite(upper)):
            half = Z[sensitivity] * float(found.sigma[0])
            lower, upper = float(found.expected[0]) - half, float(found.expected[0]) + half
        since = _onset(series, int(found.onset[0]))
        after, before = float(found.after[0]), float(found.before[0])
        return self.finding(
            series,
            value=after,
            expected=before,
            band=(lower, upper),
            direction=direction,
            severity=severity_of_p(p, sensitivity),
            score=float(found.z[0]),
            since=since,
            reason=reason(direction, found, 0, since, float(found.z[0])),
            p_value=p,
        )


def _onset(series: MetricSeries, row: int) -> pd.Timestamp:
    """The period of judged row ``row`` (rows count judged periods only)."""
    judged = np.flatnonzero(series.judged.to_numpy(dtype=bool))
    return pd.Timestamp(series.judged.index[judged[row]])


def _normal_tail(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def _side(values: pd.Series, band: pd.DataFrame) -> pd.Series:
    """+1 above the band, -1 below it, 0 inside it or where there is no band."""
    above = (values > band["upper"]).to_numpy()
    below = (values < band["lower"]).to_numpy()
    return pd.Series(np.where(above, 1, np.where(below, -1, 0)), index=values.index)
