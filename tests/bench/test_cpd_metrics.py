"""The TCPD scores: hand-computed cases, and the published zero baseline reproduced."""

from __future__ import annotations

import json

import pytest

from bench._cpd_metrics import clean, covering, f1
from bench.detect_tcpd import data_dir, load_series


@pytest.mark.parametrize(
    ("annotations", "detections", "expected"),
    [
        ({"a": [10, 20], "b": [10]}, [10, 20], 1.0),  # P 3/3, R (3/3 + 2/2) / 2
        ({"a": [10], "b": []}, [], 6 / 7),  # P 1/1, R (1/2 + 1/1) / 2
        ({"a": [10]}, [16], 0.5),  # 6 away: a miss; P 1/2, R 1/2
        ({"a": [10]}, [15], 1.0),  # 5 away: a hit
        ({"a": [10, 12]}, [11], 0.8),  # one detection hits one point: P 2/2, R 2/3
    ],
    ids=["exact", "nothing-found", "outside-margin", "on-margin", "used-once"],
)
def test_f1(annotations: dict[str, list[int]], detections: list[int], expected: float) -> None:
    assert f1(annotations, detections) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("annotations", "detections", "expected"),
    [
        ({"a": [5]}, [5], 1.0),
        ({"a": []}, [5], 0.5),  # the one true segment is half of its best match
        ({"a": [4], "b": []}, [], 0.75),  # a: (4 x 4/8 + 4 x 4/8) / 8 ; b: 1
    ],
    ids=["exact", "split-too-much", "two-annotators"],
)
def test_covering(
    annotations: dict[str, list[int]], detections: list[int], expected: float
) -> None:
    assert covering(annotations, detections, 8 if "b" in annotations else 10) == expected


def test_clean_keeps_distinct_detections_inside_the_series() -> None:
    assert clean([0, 3, 3, 9, 10], 11) == [3, 9]


def test_zero_baseline_matches_the_published_scores() -> None:
    root = data_dir()
    if not (root / "annotations.json").exists():
        pytest.skip(f"no TCPD data at {root}")
    annotations = json.loads((root / "annotations.json").read_text())
    published = json.loads((root / "published" / "default_scores_subset.json").read_text())
    for name, marks in annotations.items():
        n = len(load_series(root / "datasets" / f"{name}.json"))
        assert f1(marks, []) == pytest.approx(published["f1"][name]["zero"], abs=1e-12)
        assert covering(marks, [], n) == pytest.approx(published["cover"][name]["zero"], abs=1e-12)
