"""The detectors metrics.yaml can name, and what the rest of cx-agent asks about them.

A detector is one class (see :class:`agent.detect.base.Detector`) and one line in
``DETECTORS``: its options, finding kinds, band, tunable options and whether it judges
the watched segments are declared on the class, and read from here.
"""

from __future__ import annotations

from agent.detect.base import Detector
from agent.detect.changepoint import ChangePointDetector
from agent.detect.seasonal import SeasonalDetector
from agent.detect.threshold import ThresholdDetector

__all__ = ["DETECTORS", "band_z", "detector_of", "segment_detector"]

DETECTORS: dict[str, type[Detector]] = {
    cls.kind: cls for cls in (ThresholdDetector, SeasonalDetector, ChangePointDetector)
}
"""``detect:`` key in metrics.yaml -> its detector, in the order findings are listed."""


def detector_of(kind: str) -> type[Detector] | None:
    """The detector whose findings are of ``kind`` (None: no detector's, e.g. late data)."""
    return next((cls for cls in DETECTORS.values() if kind in cls.finding_kinds), None)


def band_z(kind: str, sensitivity: str) -> float | None:
    """Half-width in sigmas of the band of a ``kind`` finding (None: no band)."""
    cls = detector_of(kind)
    return None if cls is None else cls.band_z(sensitivity)


def segment_detector() -> type[Detector] | None:
    """The detector whose options judge the watched segments."""
    return next((cls for cls in DETECTORS.values() if cls.on_segments), None)
