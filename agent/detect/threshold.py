"""Fixed limits: alert when the value is above or below a number.

Severity is WARNING for a breach and CRITICAL when the value is more than 10 % of the
limit beyond it (``score`` is that relative breach; absolute when the limit is 0).
``lower``/``upper`` are the allowed range, infinite on a side without a limit.
"""

from __future__ import annotations

import math
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

from agent.cube import MetricSeries
from agent.detect.bands import DetectorBase, last_is_judged, run_start, severity_of
from agent.model import Direction, Finding

__all__ = ["ThresholdDetector", "ThresholdSpec"]

CRITICAL_BREACH = 0.10
"""Relative breach (|value - limit| / |limit|) from which a breach is critical."""


class ThresholdSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _needs_a_limit(self) -> ThresholdSpec:
        if self.above is None and self.below is None:
            raise ValueError("threshold needs `below` or `above` (or both)")
        return self


class ThresholdDetector(DetectorBase[ThresholdSpec]):
    kind: ClassVar[str] = "threshold"
    spec_type: ClassVar[type[BaseModel]] = ThresholdSpec

    def detect(self, series: MetricSeries) -> list[Finding]:
        if not last_is_judged(series):
            return []
        values = series.value[series.judged]
        breach = self._breach(float(values.iloc[-1]))
        if breach is None or not self.reports(breach[1]):
            return []
        limit, direction = breach
        beyond = values < limit if direction is Direction.DOWN else values > limit
        value = float(values.iloc[-1])
        score = abs(value - limit) / (abs(limit) or 1.0)
        side = "below" if direction is Direction.DOWN else "above"
        return [
            self.finding(
                series,
                value=value,
                expected=limit,
                band=(
                    -math.inf if self.spec.below is None else self.spec.below,
                    math.inf if self.spec.above is None else self.spec.above,
                ),
                direction=direction,
                severity=severity_of(score, 0.0, CRITICAL_BREACH),
                score=score,
                since=run_start(beyond),
                reason=f"{value:.4g} is {side} the limit of {limit:.4g}",
            )
        ]

    def _breach(self, value: float) -> tuple[float, Direction] | None:
        """The limit ``value`` breaks and the direction of the breach, if any."""
        if self.spec.below is not None and value < self.spec.below:
            return self.spec.below, Direction.DOWN
        if self.spec.above is not None and value > self.spec.above:
            return self.spec.above, Direction.UP
        return None
