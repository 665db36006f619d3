"""Alerts marked false make a metric less sensitive, within limits set in metrics.yaml.

Every ``false_alarms`` verdicts of ``false`` lower the anomaly sensitivity one step
(high → medium → low, never below ``min_sensitivity``), and, when ``max_min_shift``
is set, raise the change-point minimum shift just above the largest move the team
called false (never above ``max_min_shift``). Fixed threshold limits are the team's
own rules and are never changed. The report says what was changed and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.feedback.labels import FalseAlarm
from agent.model import Note

__all__ = ["SENSITIVITIES", "Tuning", "TuningSpec", "tune"]

Sensitivity = Literal["high", "medium", "low"]
SENSITIVITIES: tuple[Sensitivity, ...] = ("high", "medium", "low")
"""Most sensitive first: one step right is a wider band."""
MARGIN = 1.25
"""The raised minimum shift is this much above the largest false move."""


class TuningSpec(BaseModel):
    """``tuning:`` of a metric: what alerts marked false may change, and how far."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    false_alarms: int = Field(3, ge=1, description="False alarms per step of lower sensitivity.")
    min_sensitivity: Sensitivity = "low"
    max_min_shift: float | None = Field(
        None, ge=0, description="Highest change-point min_shift tuning may set; None: unchanged."
    )


@dataclass(frozen=True)
class Tuning:
    """What the verdicts change for one metric's detectors (None: unchanged)."""

    false_alarms: int
    sensitivity: Sensitivity | None = None
    min_shift: float | None = None
    notes: tuple[Note, ...] = ()
    """What the report says: ``note_tuned_band`` {count, band}, ``note_tuned_shift``
    {count, before, after}."""


def tune(
    spec: TuningSpec,
    alarms: list[FalseAlarm],
    *,
    sensitivity: Sensitivity | None,
    min_shift: float | None,
) -> Tuning:
    """The tuning ``alarms`` call for, given the configured anomaly ``sensitivity`` and
    change-point ``min_shift`` (None where that detector is not configured)."""
    steps = len(alarms) // spec.false_alarms
    if steps == 0:
        return Tuning(len(alarms))
    count = len(alarms)
    notes = []
    band = _lower(sensitivity, steps, spec.min_sensitivity)
    if band is not None:
        notes.append(Note("note_tuned_band", {"count": count, "band": band}))
    shift = _raise(min_shift, alarms, spec.max_min_shift)
    if shift is not None and min_shift is not None:
        notes.append(
            Note("note_tuned_shift", {"count": count, "before": min_shift, "after": shift})
        )
    return Tuning(count, band, shift, tuple(notes))


def _lower(current: Sensitivity | None, steps: int, floor: Sensitivity) -> Sensitivity | None:
    if current is None:
        return None
    at = SENSITIVITIES.index(current)
    to = min(at + steps, max(at, SENSITIVITIES.index(floor)))
    return SENSITIVITIES[to] if to != at else None


def _raise(current: float | None, alarms: list[FalseAlarm], cap: float | None) -> float | None:
    shifts = [a.shift for a in alarms if a.shift is not None]
    if current is None or cap is None or not shifts:
        return None
    wanted = min(max(shifts) * MARGIN, cap)
    return wanted if wanted > current else None
