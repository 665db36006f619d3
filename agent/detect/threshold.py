"""Threshold rules: fixed limits, relative change against a comparison period, a target.

A ``threshold:`` block holds any of these rules; each judges the last period:

* ``below`` / ``above`` — absolute limits;
* ``change: {max, against}`` — the relative change against ``previous`` (the period
  before), ``same_weekday`` (the same weekday a week earlier) or ``median_4_weeks``
  (the median of the same weekday over the 4 weeks before, of those judged, at least
  2). For grains other than day, ``same_weekday`` is the previous period and
  ``median_4_weeks`` the median of the previous 4 periods;
* ``target`` — a goal: missed when the value is on the bad side of it (below it when
  ``good: up``, above it when ``good: down``); the reason gives the value as a share of
  the target.

Only judged periods count, on both sides of a comparison: when the comparison period
is not judged (a holiday, an immature period) there is no comparison and no finding.
A relative change needs a non-zero comparison value. Numbers may be written as
percentages ("15%" is 0.15).

A rule's allowed range is ``lower``..``upper``; a breach's ``score`` is how far the
value lies beyond the edge it crossed, relative to that edge (absolute when the edge is
0), and it is CRITICAL from 10 %. ``expected`` is the limit, the comparison value or the
target; ``since`` is the first period of the current run of breaches of that rule
(periods without a comparison neither break nor start a run). A breach in the good
direction counts only with ``alert_on: both``. Several rules in one block give at most
one finding: the most severe breach (severity, then score).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator, model_validator

from agent.cube import MetricSeries
from agent.detect.bands import DetectorBase, is_daily, last_is_judged, run_start, severity_of
from agent.detect.baselines import wall_clock
from agent.model import Direction, Finding, FindingKind, Note, Severity

__all__ = ["ChangeRule", "ThresholdDetector", "ThresholdSpec"]

CRITICAL_BREACH = 0.10
"""Relative breach (beyond the crossed edge, as a share of it) from which a breach is critical."""

Against = Literal["previous", "same_weekday", "median_4_weeks"]
LAG_DAYS: dict[str, tuple[int, ...]] = {
    "previous": (1,),
    "same_weekday": (7,),
    "median_4_weeks": (7, 14, 21, 28),
}
"""Comparison periods of daily series, in days back; other grains go back 1..n periods."""
AGAINST_CODE: dict[tuple[str, bool], str] = {
    ("previous", True): "previous_day",
    ("same_weekday", True): "same_weekday",
    ("median_4_weeks", True): "median_4_weeks",
    ("previous", False): "previous_period",
    ("same_weekday", False): "previous_period",
    ("median_4_weeks", False): "median_4_periods",
}
"""What a change was compared against, by (``against``, daily series): the ``against``
value of a change reason (worded by the report)."""


def _number(value: object) -> object:
    """Read "15%" as 0.15 and "0.15" as 0.15; leave non-strings to pydantic."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        number = float(text.removesuffix("%"))
    except ValueError:
        raise ValueError(f"{value!r} is not a number; write e.g. 0.15 or 15%") from None
    return number / 100 if text.endswith("%") else number


Number = Annotated[float, BeforeValidator(_number)]
Describe = Callable[[float, float, Direction], Note]
"""Says why a breach is one: (value, expected, direction) -> reason."""


class ChangeRule(BaseModel):
    """Alert when the value moved more than ``max`` (relative) against a comparison."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max: Number
    against: Against = "previous"

    @field_validator("max")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError(
                f"`max` is the size of a move and cannot be negative (got {_percent(value)})"
                " — write e.g. `max: 15%`; `good:` says which direction alerts"
            )
        return value


class ThresholdSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    above: Number | None = None
    below: Number | None = None
    change: ChangeRule | None = None
    target: Number | None = None

    @model_validator(mode="after")
    def _needs_a_rule(self) -> ThresholdSpec:
        if all(rule is None for rule in (self.above, self.below, self.change, self.target)):
            raise ValueError(
                "threshold needs a rule — add one or more of `below`, `above`,"
                " `change: {max: 15%, against: previous}` or `target`"
            )
        if self.above is not None and self.below is not None and self.below >= self.above:
            raise ValueError("`below` must be smaller than `above` — swap them")
        return self


@dataclass(frozen=True)
class _Breach:
    value: float
    expected: float
    band: tuple[float, float]
    direction: Direction
    since: pd.Timestamp
    reason: Note

    @property
    def score(self) -> float:
        edge = self.band[0] if self.direction is Direction.DOWN else self.band[1]
        return abs(self.value - edge) / (abs(edge) or 1.0)

    @property
    def severity(self) -> Severity:
        return severity_of(self.score, 0.0, CRITICAL_BREACH)


@dataclass(frozen=True)
class _Bounds:
    """A rule's expected value and allowed range per judged period (NaN: no comparison)."""

    expected: pd.Series
    lower: pd.Series
    upper: pd.Series
    describe: Describe


class ThresholdDetector(DetectorBase[ThresholdSpec]):
    kind: ClassVar[str] = "threshold"
    spec_type: ClassVar[type[BaseModel]] = ThresholdSpec
    finding_kinds: ClassVar[tuple[FindingKind, ...]] = (FindingKind.THRESHOLD,)

    def detect(self, series: MetricSeries) -> list[Finding]:
        if not last_is_judged(series):
            return []
        breaches = [b for b in self._breaches(series) if self.reports(b.direction)]
        if not breaches:
            return []
        worst = max(breaches, key=lambda b: (b.severity.rank, b.score))
        return [
            self.finding(
                series,
                value=worst.value,
                expected=worst.expected,
                band=worst.band,
                direction=worst.direction,
                severity=worst.severity,
                score=worst.score,
                since=worst.since,
                reason=worst.reason,
            )
        ]

    def _breaches(self, series: MetricSeries) -> list[_Breach]:
        """The breach of each configured rule in the last period (rules not broken left out)."""
        spec = self.spec
        values = series.value[series.judged]
        found: list[_Breach | None] = []
        if spec.below is not None or spec.above is not None:
            found.append(_judge(values, _limit_bounds(values, spec.below, spec.above)))
        if spec.change is not None:
            found.append(_judge(values, _change_bounds(series, spec.change)))
        if spec.target is not None:
            found.append(_judge(values, self._target_bounds(values, spec.target)))
        return [b for b in found if b is not None]

    def _target_bounds(self, values: pd.Series, target: float) -> _Bounds:
        up = self.good is Direction.UP
        return _Bounds(
            expected=pd.Series(target, index=values.index),
            lower=pd.Series(target if up else -math.inf, index=values.index),
            upper=pd.Series(math.inf if up else target, index=values.index),
            describe=_target_reason,
        )


def _judge(values: pd.Series, bounds: _Bounds) -> _Breach | None:
    """The breach of the last period against ``bounds``, if it lies outside them."""
    side = pd.Series(
        np.where(values > bounds.upper, 1.0, np.where(values < bounds.lower, -1.0, 0.0)),
        index=values.index,
    ).where(bounds.lower.notna() & bounds.upper.notna())
    if pd.isna(side.iloc[-1]) or side.iloc[-1] == 0:  # no comparison, or inside the range
        return None
    direction = Direction.UP if side.iloc[-1] > 0 else Direction.DOWN
    value, expected = float(values.iloc[-1]), float(bounds.expected.iloc[-1])
    return _Breach(
        value=value,
        expected=expected,
        band=(float(bounds.lower.iloc[-1]), float(bounds.upper.iloc[-1])),
        direction=direction,
        since=run_start(side.dropna() == side.iloc[-1]),
        reason=bounds.describe(value, expected, direction),
    )


def _limit_bounds(values: pd.Series, below: float | None, above: float | None) -> _Bounds:
    lower = -math.inf if below is None else below
    upper = math.inf if above is None else above
    return _Bounds(
        expected=pd.Series(np.where(values < lower, lower, upper), index=values.index),
        lower=pd.Series(lower, index=values.index),
        upper=pd.Series(upper, index=values.index),
        describe=_limit_reason,
    )


def _change_bounds(series: MetricSeries, rule: ChangeRule) -> _Bounds:
    base = _comparison(series.value.where(series.judged), rule.against)[series.judged]
    base = base.where(base != 0)
    against = AGAINST_CODE[rule.against, is_daily(series.frame.index)]

    def describe(value: float, expected: float, direction: Direction) -> Note:
        moved = abs(value - expected) / abs(expected)
        return Note(
            f"reason_change_{direction}", {"moved": moved, "against": against, "max": rule.max}
        )

    return _Bounds(
        expected=base,
        lower=base - rule.max * base.abs(),
        upper=base + rule.max * base.abs(),
        describe=describe,
    )


def _comparison(values: pd.Series, against: str) -> pd.Series:
    """The comparison value of each period; NaN where its comparison periods are NaN.

    A median needs at least 2 of its periods.
    """
    lags = LAG_DAYS[against]
    if is_daily(values.index):
        wall = wall_clock(values.index)
        by_day = pd.Series(values.to_numpy(), index=wall)
        columns = [by_day.reindex(wall - pd.Timedelta(days=d)).to_numpy() for d in lags]
    else:
        columns = [values.shift(k).to_numpy() for k in range(1, len(lags) + 1)]
    frame = pd.DataFrame(dict(enumerate(columns)), index=values.index)
    return frame.median(axis=1).where(frame.count(axis=1) >= min(2, len(lags)))


def _limit_reason(value: float, limit: float, direction: Direction) -> Note:
    side = "below" if direction is Direction.DOWN else "above"
    return Note(f"reason_limit_{side}", {"value": value, "limit": limit})


def _target_reason(value: float, target: float, direction: Direction) -> Note:
    if target > 0 and value >= 0:
        return Note("reason_target_share", {"ratio": value / target, "target": target})
    side = "below" if direction is Direction.DOWN else "above"
    return Note(f"reason_target_{side}", {"value": value, "target": target})


def _percent(share: float) -> str:
    """0.183 -> "18.3%", 0.15 -> "15%"."""
    return f"{100 * share:.1f}".rstrip("0").rstrip(".") + "%"
