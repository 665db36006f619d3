"""Every chart's texts, on hostile inputs, drawn where they can be read: no two text boxes
overlap (matplotlib's own renderer measures them in the PNG's pixels), none leaves the
picture, and the texts that carry meaning (segment names, values, legends) are all there.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import pytest
from matplotlib.figure import Figure

from agent.model import Cause, Direction, Episode, EpisodeStatus, Explanation, Severity
from agent.report import ReportInput
from agent.report.cause_charts import causes_figure, segments_figure, top_segments
from agent.report.chart_text import ELLIPSIS, text_boxes
from agent.report.charts import chart_style, main_figure, png
from agent.report.formatting import format_delta
from agent.report.messages import MESSAGES

from . import day, history, report_input, segment_series

PERIOD = day(11, 19)
LONG = {
    "en": "a-very-long-store-name-from-the-warehouse-" * 3,
    "ko": "경상북도 포항시 남구 오천읍 세계리 고객센터 " * 3,
}
EFFECTS = {
    "mixed": [(-0.031, 0.002), (-1e-5, 0.0), (2e-7, -3e-7), (-0.2, -0.1), (0.3, 0.0), (0.0, 0.0)],
    "tiny": [(-1e-9, 1e-9)],
    "negative": [(-0.04, -0.01), (-0.02, 0.0)],
}
"""(rate effect, mix effect) per cause: opposite signs, values that round to zero."""


def hostile(locale: str, effects: list[tuple[float, float]], unit: str = "percent") -> ReportInput:
    """Causes with long (and Korean) names, the given effects, their own series going
    negative; a long title; an episode shaded across the chart."""
    inp = report_input(PERIOD, title=LONG[locale][:60])
    [e] = inp.run.explanations
    causes = [
        Cause(
            segment={"region": f"{LONG[locale]}{i}", "device": "android"},
            share=0.2,
            value_before=0.3,
            value_after=-0.001 * i,
            size_before=1000.0,
            size_after=990.0,
            rate_effect=rate,
            mix_effect=mix,
            confidence=0.99,
        )
        for i, (rate, mix) in enumerate(effects)
    ]
    episode = Episode(
        "revisit_rate", {}, EpisodeStatus.ONGOING, day(11, 1), PERIOD, 12,
        Severity.CRITICAL, Direction.DOWN,
    )  # fmt: skip
    e = dataclasses.replace(e, causes=causes, episode=episode)
    frame = history(PERIOD)
    if unit == "currency":
        frame = frame * 1e8  # amounts of nine digits and more on the value axis
    return dataclasses.replace(
        inp,
        run=dataclasses.replace(inp.run, explanations=[e]),
        history=frame,
        unit=unit,  # type: ignore[arg-type]
        locale=locale,  # type: ignore[arg-type]
        segments=[
            (c.segment, segment_series(PERIOD, 0.3, -1e-4 * (i + 1))) for i, c in enumerate(causes)
        ],
    )


Draw = Callable[[Explanation, ReportInput], Figure]
CHARTS: dict[str, Draw] = {
    "main": lambda e, inp: main_figure(inp),
    "causes": causes_figure,
    "segments": lambda e, inp: segments_figure(e, top_segments(e, inp), inp),
}


def drawn(chart: str, inp: ReportInput) -> tuple[Figure, list[tuple[str, object]]]:
    """The chart as its PNG is drawn, and its texts' boxes."""
    with chart_style(inp.locale):
        fig = CHARTS[chart](inp.run.explanations[0], inp)
        assert png(fig).startswith(b"\x89PNG")
        return fig, text_boxes(fig)  # type: ignore[return-value]


CASES = [
    (chart, locale, effects, unit)
    for chart in CHARTS
    for locale in ("en", "ko")
    for effects, unit in (("mixed", "percent"), ("tiny", "percent"), ("negative", "currency"))
]


@pytest.mark.parametrize(("chart", "locale", "effects", "unit"), CASES)
def test_no_two_texts_of_a_chart_overlap_and_none_leaves_it(
    chart: str, locale: str, effects: str, unit: str
) -> None:
    inp = hostile(locale, EFFECTS[effects], unit)
    fig, boxes = drawn(chart, inp)
    collisions = [(a, b) for (a, x), (b, y) in itertools.combinations(boxes, 2) if x.overlaps(y)]  # type: ignore[attr-defined]
    assert collisions == []
    frame = fig.bbox
    outside = [
        t
        for t, box in boxes
        if not frame.contains(box.x0, box.y0) or not frame.contains(box.x1, box.y1)
    ]  # type: ignore[attr-defined]
    assert outside == []


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_the_causes_chart_keeps_every_name_and_value(locale: str) -> None:
    msg = MESSAGES[locale]
    inp = hostile(locale, EFFECTS["mixed"])
    [e] = inp.run.explanations
    _, boxes = drawn("causes", inp)
    texts = [t for t, _ in boxes]
    names = [t for t in texts if t.startswith("region=")]
    assert len(names) == len(e.causes) and all(n.endswith(ELLIPSIS) for n in names)
    assert msg["others"] in texts and msg["total_change"] in texts
    assert msg["rate_effect"] in texts and msg["mix_effect"] in texts
    for c in e.causes:
        assert format_delta(c.contribution, "percent", locale) in texts


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_small_multiples_keep_a_title_per_panel(locale: str) -> None:
    inp = hostile(locale, EFFECTS["mixed"])
    fig, boxes = drawn("segments", inp)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert len(titles) == 4 and all(t.startswith("region=") for t in titles)
    assert set(titles) <= {t for t, _ in boxes}
    assert any(ax.get_xticklabels() for ax in fig.axes)


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_the_main_chart_keeps_its_legend_and_a_value_scale(locale: str) -> None:
    msg = MESSAGES[locale]
    _, boxes = drawn("main", hostile(locale, EFFECTS["negative"], "currency"))
    texts = {t for t, _ in boxes}
    assert {msg["chart_value"], msg["chart_band"], msg["chart_expected"]} <= texts
    assert sum(t.endswith("원") or t.startswith("₩") for t in texts) >= 2  # the value axis
