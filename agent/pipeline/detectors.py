"""A metric's detectors, read from its ``detect:`` block through the detect registry."""

from __future__ import annotations

from pydantic import BaseModel

from agent.config import MetricSpec
from agent.detect import DETECTORS, segment_detector
from agent.detect.bands import Sensitivity
from agent.detect.base import Detector
from agent.model import Direction

__all__ = ["configured", "detectors", "segment_sensitivity", "with_options"]


def configured(spec: MetricSpec) -> dict[str, BaseModel]:
    """The options of each detector the metric names, in registry order."""
    found = {kind: getattr(spec.detect, kind) for kind in DETECTORS}
    return {kind: options for kind, options in found.items() if options is not None}


def detectors(spec: MetricSpec) -> list[Detector]:
    """The metric's detectors, built from its options."""
    good = Direction(spec.good)
    return [
        DETECTORS[kind](options, good=good, alert_on=spec.alert_on)
        for kind, options in configured(spec).items()
    ]


def segment_sensitivity(spec: MetricSpec) -> Sensitivity:
    """The sensitivity of the detector that judges the watched segments and draws the
    report's band (medium when the metric does not configure it)."""
    cls = segment_detector()
    options = None if cls is None else configured(spec).get(cls.kind)
    sensitivity: Sensitivity = getattr(options, "sensitivity", "medium")
    return sensitivity


def with_options(spec: MetricSpec, changes: dict[str, object]) -> MetricSpec:
    """``spec`` with each configured detector's ``tunable`` options in ``changes`` set
    (a None value leaves the option as it is)."""
    update = {}
    for kind, options in configured(spec).items():
        wanted = {
            name: changes[name] for name in DETECTORS[kind].tunable if changes.get(name) is not None
        }
        if wanted:
            update[kind] = options.model_copy(update=wanted)
    return spec.model_copy(update={"detect": spec.detect.model_copy(update=update)})
