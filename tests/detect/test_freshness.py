"""Late or missing data is its own finding and is never judged as a drop."""

from __future__ import annotations

import pandas as pd

from agent.cube import MetricSeries
from agent.detect.freshness import late_data
from agent.model import FindingKind, Note
from tests.detect import days, rate

N = 29


def visits(last_den: float, judged_last: bool = True) -> MetricSeries:
    """Four weeks of 1,000 visits a day (a 20% rate), then a last day of ``last_den``."""
    return rate([0.2] * N, [1000.0] * (N - 1) + [last_den], [True] * (N - 1) + [judged_last])


LAST = days(N)[-1]
END = LAST + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")


def test_a_complete_day_is_no_finding() -> None:
    assert late_data(visits(980.0), LAST, END, LAST + pd.Timedelta(hours=23)) is None


def test_a_day_without_rows_is_missing_data() -> None:
    series = visits(1000.0)
    known = MetricSeries(series.frame.iloc[:-1], False, "m", {})
    finding = late_data(known, LAST, END, LAST - pd.Timedelta(hours=1))
    assert finding is not None and finding.kind is FindingKind.LATE_DATA
    assert finding.reason == Note("reason_late_missing", {"day": LAST})
    assert (finding.value, finding.expected) == (0.0, 1000.0)


def test_a_warehouse_that_stops_before_the_day_is_incomplete() -> None:
    finding = late_data(visits(300.0), LAST, END, LAST - pd.Timedelta(minutes=5))
    assert finding is not None
    newest = LAST - pd.Timedelta(minutes=5)
    assert finding.reason == Note("reason_late_incomplete", {"day": LAST, "newest": newest})


def test_a_day_with_a_third_of_its_usual_volume_looks_incomplete() -> None:
    finding = late_data(visits(300.0), LAST, END, LAST + pd.Timedelta(hours=23))
    assert finding is not None
    assert finding.reason == Note(
        "reason_late_low_volume", {"day": LAST, "volume": 300.0, "ratio": 0.3, "usual": 1000.0}
    )


def test_a_quiet_holiday_is_not_late_data() -> None:
    assert late_data(visits(300.0, judged_last=False), LAST, END, END) is None
