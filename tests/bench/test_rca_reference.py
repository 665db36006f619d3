"""What ``bench.rca_reference`` hands the RiskLoc authors' code, and how it reads the answer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench.rca_reference import (
    SOURCE_VARIABLE,
    authors_elements,
    authors_frame,
    main,
    rs_their_reading,
)

LEAVES = pd.DataFrame(
    {
        "a": ["x", "y"],
        "b": ["p", "q"],
        "num_before": [9.0, 0.0],
        "den_before": [10.0, 0.0],
        "num_after": [4.0, 1.0],
        "den_after": [8.0, 2.0],
    }
)


def test_additive_frame_has_real_and_predict() -> None:
    frame = authors_frame(LEAVES, ["a", "b"], additive=True)
    assert frame.to_dict("list") == {
        "a": ["x", "y"],
        "b": ["p", "q"],
        "real": [4.0, 1.0],
        "predict": [9.0, 0.0],
    }


def test_derived_frame_divides_and_reads_zero_over_zero_as_zero() -> None:
    frame = authors_frame(LEAVES, ["a", "b"], additive=False)
    assert frame.to_dict("list") == {
        "a": ["x", "y"],
        "b": ["p", "q"],
        "real_a": [4.0, 1.0],
        "real_b": [8.0, 2.0],
        "predict_a": [9.0, 0.0],
        "predict_b": [10.0, 0.0],
        "real": [0.5, 0.5],
        "predict": [0.9, 0.0],
    }


def test_root_causes_become_element_names() -> None:
    causes = [
        {"cuboid": ["b", "a"], "elements": [("q", "x")], "risk score": 0.9},
        {"cuboid": ["a"], "elements": [("y",)], "risk score": 0.7},
    ]
    assert authors_elements(causes) == {"a=x&b=q", "a=y"}


def test_rs_as_the_authors_read_it(tmp_path: Path) -> None:
    """Means over the minutes present; the expected rate is the mean of the minutes' rates."""
    rows = [
        # min, value (bad), cnt, cdn
        (0, 0, 10, "1"),
        (60, 5, 10, "1"),
        (60, 1, 4, "2"),
        (120, 2, 4, "1"),
        (120, 3, 3, "3"),
    ]
    pd.DataFrame(rows, columns=["min", "value", "cnt", "cdn"]).to_csv(
        tmp_path / "c.csv", index=False
    )
    (tmp_path / "anomaly.yaml").write_text("- data: c\n  timestamp: 120\n  cause: {cdn: 1}\n")
    [(case, frame)] = list(rs_their_reading(tmp_path))
    assert case.truth == ["cdn=1"]
    assert case.dimensions == ["cdn"]
    assert case.leaves.to_dict("list") == {
        "cdn": ["1", "3"],
        "num_before": [7.5, 0.0],
        "den_before": [10.0, 0.0],
        "num_after": [2.0, 0.0],
        "den_after": [4.0, 3.0],
    }
    assert frame["real"].tolist() == [0.5, 0.0]
    assert frame["predict"].tolist() == [0.75, 0.0]


def test_without_a_checkout_it_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(SOURCE_VARIABLE, raising=False)
    monkeypatch.setattr("sys.argv", ["rca_reference"])
    main()
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "git clone https://github.com/shaido987/riskloc" in out
