"""Rules every registered detector keeps (DESIGN §4), run over all of DETECTORS."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import BaseModel

from agent.cube import MetricSeries
from agent.detect import (
    DETECTORS,
    AnomalySpec,
    ChangePointSpec,
    ThresholdSpec,
    detect,
    detector_of,
    segment_detector,
)
from agent.detect.bands import Z
from agent.detect.base import AlertOn, Detector
from agent.model import Direction, Finding, FindingKind
from agent.report.messages import MESSAGES
from tests.detect import additive, rate, seasonal_noise

SPECS: dict[str, BaseModel] = {
    "threshold": ThresholdSpec(below=90, above=110),
    "anomaly": AnomalySpec(),
    "change_point": ChangePointSpec(),
}


def make(kind: str, good: Direction = Direction.UP, alert_on: AlertOn = "bad") -> Detector:
    return DETECTORS[kind](SPECS[kind], good=good, alert_on=alert_on)


def moved(shift: float, judged_last: bool = True) -> MetricSeries:
    """60 noisy days around 100 whose last 5 days moved by ``shift``."""
    values = seasonal_noise(60, level=100.0, sigma=1.0, seed=7)
    values[-5:] += shift
    return additive(values, [True] * 59 + [judged_last])


def test_registry_keys_are_the_detectors_kinds() -> None:
    assert all(cls.kind == kind for kind, cls in DETECTORS.items())
    assert set(SPECS) == set(DETECTORS)


@pytest.mark.parametrize("kind", DETECTORS)
def test_each_detector_declares_what_the_rest_of_the_agent_asks(kind: str) -> None:
    """What the config, the reports, attribution, tuning and segment watch read from the
    class itself: no list elsewhere names the detectors."""
    cls = DETECTORS[kind]
    assert cls.finding_kinds and all(isinstance(k, FindingKind) for k in cls.finding_kinds)
    assert all(detector_of(k) is cls for k in cls.finding_kinds)
    for language, catalog in MESSAGES.items():
        assert all(f"kind_{k}" in catalog for k in cls.finding_kinds), language
    assert set(cls.tunable) <= set(cls.spec_type.model_fields)
    for sensitivity in Z:
        z = cls.band_z(sensitivity)
        assert z is None or z > 0
    assert isinstance(cls.on_segments, bool)
    assert isinstance(SPECS[kind], cls.spec_type)


def test_one_detector_judges_the_watched_segments() -> None:
    [segments] = [cls for cls in DETECTORS.values() if cls.on_segments]
    assert segment_detector() is segments
    assert "sensitivity" in segments.spec_type.model_fields


def test_no_two_detectors_give_the_same_kind() -> None:
    kinds = [k for cls in DETECTORS.values() for k in cls.finding_kinds]
    assert len(kinds) == len(set(kinds))
    assert detector_of(FindingKind.LATE_DATA) is None


@pytest.mark.parametrize("kind", DETECTORS)
def test_wrong_spec_type_is_refused(kind: str) -> None:
    other = next(spec for name, spec in SPECS.items() if name != kind)
    with pytest.raises(TypeError, match=kind):
        DETECTORS[kind](other, good=Direction.UP)


@pytest.mark.parametrize("kind", DETECTORS)
@pytest.mark.parametrize(
    "series",
    [additive([100.0] * 60), rate([100.0] * 60, [1000.0] * 60)],
    ids=["count", "ratio"],
)
def test_constant_series_gives_nothing(kind: str, series: MetricSeries) -> None:
    assert make(kind, alert_on="both").detect(series) == []


@pytest.mark.parametrize("kind", DETECTORS)
def test_unjudged_last_period_gives_nothing(kind: str) -> None:
    assert make(kind).detect(moved(-20.0)) != []
    assert make(kind).detect(moved(-20.0, judged_last=False)) == []


@pytest.mark.parametrize("kind", DETECTORS)
def test_bad_move_is_found_about_the_last_period(kind: str) -> None:
    series = moved(-20.0)
    [finding] = make(kind).detect(series)
    assert finding.kind in DETECTORS[kind].finding_kinds
    assert finding.metric == "m"
    assert finding.segment == {"channel": "app"}
    assert finding.period == series.frame.index[-1]
    assert finding.direction == Direction.DOWN
    assert series.frame.index[0] <= finding.since <= finding.period
    assert finding.value < finding.expected
    assert finding.reason


@pytest.mark.parametrize("kind", DETECTORS)
def test_good_move_is_reported_only_when_asked(kind: str) -> None:
    series = moved(+20.0)
    assert make(kind).detect(series) == []
    [finding] = make(kind, alert_on="both").detect(series)
    assert finding.direction == Direction.UP
    assert make(kind, good=Direction.DOWN).detect(series) == [finding]


@pytest.mark.parametrize("kind", DETECTORS)
def test_same_input_same_output(kind: str) -> None:
    first = make(kind).detect(moved(-20.0))
    second = make(kind).detect(moved(-20.0))
    assert first == second


def test_detect_runs_every_detector_in_order() -> None:
    detectors = [make(kind) for kind in DETECTORS]
    findings: list[Finding] = detect(moved(-20.0), detectors)
    assert [f.kind for f in findings] == [DETECTORS[kind].finding_kinds[0] for kind in DETECTORS]
    assert detect(additive(np.full(60, 100.0)), detectors) == []


@pytest.mark.parametrize("kind", DETECTORS)
def test_judging_many_periods_at_once_equals_judging_each_cut(kind: str) -> None:
    values = seasonal_noise(90, level=100.0, sigma=1.0, seed=11)
    values[-12:] -= 8.0
    judged = [True] * 90
    judged[60:62] = [False, False]  # a two-day holiday inside the replayed weeks
    series = additive(values, judged)
    periods = list(series.frame.index[-35:])
    detector = make(kind, alert_on="both")
    batch = detector.detect_periods(series, periods)
    assert batch == {p: detector.detect(series.upto(p)) for p in periods}
    assert any(batch.values())
