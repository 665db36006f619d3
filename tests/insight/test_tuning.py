"""Alerts marked false lower a metric's sensitivity, one step per N, within its limits."""

from __future__ import annotations

import pytest

from agent.feedback import FalseAlarm, TuningSpec, tune
from agent.model import Note


def alarms(n: int, shift: float | None = 0.02) -> list[FalseAlarm]:
    return [FalseAlarm(f"m||2026-01-{i + 1:02d}T00:00:00", {}, shift) for i in range(n)]


def test_fewer_false_alarms_than_n_change_nothing() -> None:
    tuning = tune(TuningSpec(), alarms(2), sensitivity="high", min_shift=0.01)
    assert (tuning.sensitivity, tuning.min_shift, tuning.notes) == (None, None, ())


def test_every_n_false_alarms_lower_the_band_one_step_down_to_the_floor() -> None:
    spec = TuningSpec(false_alarms=3, min_sensitivity="low")
    assert tune(spec, alarms(3), sensitivity="high", min_shift=None).sensitivity == "medium"
    assert tune(spec, alarms(6), sensitivity="high", min_shift=None).sensitivity == "low"
    assert tune(spec, alarms(9), sensitivity="high", min_shift=None).sensitivity == "low"
    floor = TuningSpec(false_alarms=3, min_sensitivity="medium")
    assert tune(floor, alarms(9), sensitivity="high", min_shift=None).sensitivity == "medium"
    assert tune(floor, alarms(9), sensitivity="low", min_shift=None).sensitivity is None


def test_the_minimum_shift_rises_above_the_false_moves_up_to_its_limit() -> None:
    spec = TuningSpec(false_alarms=3, max_min_shift=0.05)
    tuning = tune(spec, alarms(3, shift=0.02), sensitivity=None, min_shift=0.01)
    assert tuning.min_shift == pytest.approx(0.025)
    assert tuning.notes == (
        Note("note_tuned_shift", {"count": 3, "before": 0.01, "after": pytest.approx(0.025)}),
    )
    capped = tune(spec, alarms(3, shift=0.2), sensitivity=None, min_shift=0.01)
    assert capped.min_shift == 0.05
    unset = tune(TuningSpec(), alarms(3, shift=0.2), sensitivity=None, min_shift=0.01)
    assert unset.min_shift is None and unset.notes == ()


def test_the_note_names_every_change() -> None:
    spec = TuningSpec(max_min_shift=1.0)
    tuning = tune(spec, alarms(3, shift=0.1), sensitivity="medium", min_shift=0.05)
    assert [(n.code, n.params) for n in tuning.notes] == [
        ("note_tuned_band", {"count": 3, "band": "low"}),
        ("note_tuned_shift", {"count": 3, "before": 0.05, "after": pytest.approx(0.125)}),
    ]
