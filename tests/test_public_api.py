"""The public API, pinned (in the manner of httpx's exported-members test): a name
added to or dropped from ``agent.__all__`` or an extension point is a decision, made
here, not a side effect. And every public exception joins the one tree."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

import agent
from agent.errors import AgentError

PINNED = {
    "agent": ["Cause", "Finding", "__version__", "load_config", "run_metric"],
    "agent.detect": [
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
    ],
    "agent.notify": [
        "NOTIFIERS",
        "ChannelSpec",
        "Decision",
        "DeliveryRef",
        "Notice",
        "Notifier",
        "NotifyError",
        "NotifyPolicy",
        "RunBody",
        "active_silences",
        "add_silence",
        "build_notifier",
        "build_notifiers",
        "decide",
        "deliver",
        "enqueue",
        "flush",
        "has_work",
        "lift_silence",
        "route",
        "sample_notice",
    ],
}
"""``agent`` and its extension points (detectors, notifiers) -> their exported names."""


@pytest.mark.parametrize("name", PINNED)
def test_exported_members_are_the_pinned_ones(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__ == PINNED[name]
    assert all(getattr(module, member) is not None for member in module.__all__)


def _modules() -> list[ModuleType]:
    names = [m.name for m in pkgutil.walk_packages(agent.__path__, "agent.")]
    return [importlib.import_module(n) for n in names if n != "agent.__main__"]


def test_every_public_exception_joins_the_one_tree() -> None:
    outside = [
        f"{module.__name__}.{value.__name__}"
        for module in _modules()
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == module.__name__
        and not value.__name__.startswith("_")
        and not issubclass(value, AgentError)
    ]
    assert outside == []
