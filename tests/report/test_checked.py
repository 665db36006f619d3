"""What was checked and not named a cause, said plainly: a segment that moved because it
shares customers with a cause says so and names it, one within noise is "checked and
normal", and one that moved for its own reasons is never passed off as either."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agent.attribute import localize
from agent.model import Cause
from agent.report import write_reports
from agent.report.checked import verdict

from . import day, report_input

ANDROID = {"channel": "app", "device": "android"}


def checked(segment: dict[str, str], moved: float, remains: float, *overlaps: dict) -> Cause:
    return Cause(
        segment=segment,
        share=0.2,
        value_before=0.594,
        value_after=0.505,
        size_before=4000.0,
        size_after=3900.0,
        rate_effect=-0.01,
        mix_effect=0.0,
        confidence=remains,
        moved=moved,
        overlaps=list(overlaps),
    )


@pytest.mark.parametrize(
    ("moved", "remains", "overlaps", "expected"),
    [
        (1.0, 0.0, [ANDROID], "explained"),  # device=android fell with the app's Android users
        (1.0, 0.999, [ANDROID], "moved"),  # fell more than its overlap with the cause explains
        (0.99, 0.2, [], "moved"),  # fell, and shares no customer with any cause
        (0.4, 0.999, [ANDROID], "normal"),  # its own value stayed within noise
        (0.94, 0.0, [], "normal"),
    ],
)
def test_each_checked_segment_gets_one_verdict(
    moved: float, remains: float, overlaps: list[dict], expected: str
) -> None:
    assert verdict(checked({"device": "android"}, moved, remains, *overlaps)) == expected


def test_a_segment_that_moved_is_never_called_normal() -> None:
    for moved, remains in itertools.product(np.linspace(0.95, 1, 6), np.linspace(0, 1, 11)):
        for overlaps in ([], [ANDROID]):
            c = checked({"device": "android"}, float(moved), float(remains), *overlaps)
            assert verdict(c) != "normal"


APP_NORTH = {"channel": "app", "region": "north"}
DIMENSIONS = ["channel", "region", "device", "cohort"]


def _cube(seed: int, drops: list[tuple[dict[str, str], float]]) -> pd.DataFrame:
    """channel x region x device x 50 cohorts, 100 customers a leaf revisiting at 50%, but
    at the rate given to the leaves of each segment in ``drops``; binomial noise."""
    rng = np.random.default_rng(seed)
    rows = []
    cohorts = [f"c{i:02d}" for i in range(50)]
    for leaf in itertools.product(["app", "web"], ["north", "south"], ["android", "ios"], cohorts):
        values = dict(zip(DIMENSIONS, leaf, strict=True))
        after = next((r for seg, r in drops if seg.items() <= values.items()), 0.5)
        rows.append((*leaf, rng.binomial(100, 0.5), 100, rng.binomial(100, after), 100))
    columns = [*DIMENSIONS, "num_before", "den_before", "num_after", "den_after"]
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in columns[4:]})


def _verdicts(found: object) -> dict[str, tuple[str, list[dict[str, str]]]]:
    return {next(iter(c.segment)): (verdict(c), c.overlaps) for c in found.ruled_out}  # type: ignore[attr-defined]


def test_on_a_planted_cause_what_overlaps_it_is_explained_and_the_rest_normal() -> None:
    cohorts = []
    for seed in range(10):
        found = localize(_cube(seed, [(APP_NORTH, 0.4)]), DIMENSIONS, additive=False)
        assert [c.segment for c in found.causes][:1] == [APP_NORTH]
        verdicts = _verdicts(found)
        for dim in ("channel", "region", "device"):  # they fell through app & north
            assert verdicts[dim] == ("explained", [APP_NORTH]), (seed, dim)
        cohorts.append(verdicts["cohort"][0])
    # each cohort holds 1/50 of the drop: within noise, or explained by the cause when
    # chance makes the most moved of 50 stand out; "moved" only at the 5% chance of noise
    assert cohorts.count("normal") >= 6 and cohorts.count("moved") <= 1, cohorts


def test_a_move_the_causes_named_do_not_account_for_is_said_to_have_moved() -> None:
    ios = {"device": "ios"}
    cube = _cube(1, [(APP_NORTH, 0.3), (ios, 0.45)])  # ios falls too, less
    found = localize(cube, DIMENSIONS, additive=False, top=1)  # only one cause is named
    assert [c.segment for c in found.causes] == [APP_NORTH]
    assert _verdicts(found)["device"] == ("moved", [APP_NORTH])


def test_reports_say_which_is_which_in_both_languages(tmp_path: Path) -> None:
    inp = report_input(day(11, 18))
    [e] = inp.run.explanations
    e = dataclasses.replace(
        e,
        checked=["device", "tier", "region"],
        ruled_out=[
            checked({"device": "android"}, 1.0, 0.0, ANDROID),
            checked({"tier": "silver"}, 0.999, 0.99, ANDROID),
            checked({"region": "Gyeonggi"}, 0.3, 0.1, ANDROID),
        ],
    )
    inp = dataclasses.replace(inp, run=dataclasses.replace(inp.run, explanations=[e]))
    expected = {
        "en": [
            "**Explained by the causes above**",
            "- device=android: 59.4% → 50.5%, because it shares customers with "
            "channel=app & device=android",
            "**Also moved, not explained by the causes above**",
            "- tier=silver: 59.4% → 50.5% (confidence 100%)",
            "**Checked and normal**",
            "- region=Gyeonggi: 59.4% → 50.5%, within noise",
        ],
        "ko": [
            "**위 원인으로 설명되는 세그먼트**",
            "- device=android: 59.4% → 50.5%, channel=app & device=android와 고객이 겹치기 때문",
            "**함께 움직였지만 위 원인으로 설명되지 않는 세그먼트**",
            "- tier=silver: 59.4% → 50.5% (신뢰도 100%)",
            "**확인 결과 정상**",
            "- region=Gyeonggi: 59.4% → 50.5%, 변동 범위 안",
        ],
    }
    for locale, lines in expected.items():
        files = write_reports(dataclasses.replace(inp, locale=locale), tmp_path / locale)  # type: ignore[arg-type]
        md = files.md.read_text(encoding="utf-8").replace("\\=", "=")
        shown = [line for line in md.splitlines() if line in lines]
        assert shown == lines
        html = files.html.read_text(encoding="utf-8")
        assert html.count('<ul class="checked_') == 3 and "Ruled out" not in html
