"""What ``bench.rca_reference`` hands the RiskLoc and RobustSpot authors' code, and how it reads
the answers."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from bench.rca_reference import (
    HEADER,
    SOURCE_VARIABLE,
    Tally,
    authors_elements,
    authors_frame,
    evaluate,
    main,
    row,
    rs_their_reading,
)
from bench.rca_synthetic import Case
from bench.robustspot_reference import (
    load_authors_robustspot,
    robustspot_elements,
    run_robustspot,
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


def fake_robustspot(answer: Callable[..., list]) -> SimpleNamespace:
    """Stands in for the authors' module: its globals and its ``robustspot`` function."""
    return SimpleNamespace(g_data=SimpleNamespace(derived_measure=False), robustspot=answer)


def test_robustspot_root_causes_become_element_names() -> None:
    causes = [[(("p2p", "1"), ("bitrate", "2000"))], [(("cdn", "3"),), (("cdn", "4"),)]]
    assert robustspot_elements(causes) == {"bitrate=2000&p2p=1", "cdn=3", "cdn=4"}


def test_robustspot_gets_their_defaults_and_a_fresh_state() -> None:
    calls: list[tuple[list[str], int, bool, bool]] = []

    def answer(frame: pd.DataFrame, dims: list[str], *, k: int, derived: bool) -> list:
        calls.append((dims, k, derived, module.g_data.derived_measure))
        return [[(("a", "x"),)]]

    module = fake_robustspot(answer)
    assert run_robustspot(module, LEAVES, ["a", "b"], additive=False) == {"a=x"}
    assert calls == [(["a", "b"], 3, True, True)]


def test_robustspot_raising_is_a_failed_case_with_its_truth_missed() -> None:
    def answer(*_: object, **__: object) -> list:
        raise IndexError("list index out of range")

    def riskloc(*_: object, **__: object) -> list:
        return [{"cuboid": ["a"], "elements": [("x",)]}]

    case = Case(LEAVES, ["a", "b"], ["a=x"])
    frames = [(case, authors_frame(LEAVES, ["a", "b"], additive=False))]
    tally = evaluate(iter(frames), False, riskloc, fake_robustspot(answer))
    assert (tally.failed, tally.robustspot.cases, tally.robustspot.fn) == (1, 1, 1)
    assert (tally.authors.tp, tally.authors.fp) == (1, 0)


def test_sets_without_robustspot_keep_the_table_shape() -> None:
    line = row("SYN-add", Tally())
    assert line.count("|") == HEADER.count("|")
    assert line.split("|")[-2].strip() == "-"


def test_robustspot_needs_the_checkout_file(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no algorithms/robustspot/robustspot.py"):
        load_authors_robustspot(tmp_path)


def test_a_missing_package_of_theirs_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "algorithms" / "robustspot"
    code.mkdir(parents=True)
    (code / "robustspot.py").write_text("import kneed_missing_here\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    try:
        with pytest.raises(SystemExit, match="pip install kneed_missing_here"):
            load_authors_robustspot(tmp_path)
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "algorithms"]:
            del sys.modules[name]
