"""Report-stage tests. Builders shared by the test modules live here."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from agent.model import (
    Cause,
    Direction,
    Explanation,
    Finding,
    FindingKind,
    Note,
    RunResult,
    Severity,
)
from agent.report import ReportInput

SEOUL = ZoneInfo("Asia/Seoul")
XSS = "<script>alert(1)</script>"
FOLDED = Note("note_folded", {"dimension": "device", "other": "(other)"})


def day(month: int, dom: int) -> datetime:
    return datetime(2024, month, dom, tzinfo=SEOUL)


def history(end: datetime, periods: int = 120) -> pd.DataFrame:
    """Daily revisit-rate history: a flat 35.3% baseline, the value dropping a week before
    ``end``; the first 10 days have no baseline yet (NaN)."""
    index = pd.date_range(end=end, periods=periods, freq="D")
    value = np.where(index >= end - timedelta(days=7), 0.312, 0.353)
    expected = np.full(periods, 0.353)
    expected[:10] = np.nan
    return pd.DataFrame(
        {"value": value, "expected": expected, "lower": expected - 0.02, "upper": expected + 0.02},
        index=index,
    )


def segment_series(end: datetime, before: float, after: float, periods: int = 120) -> pd.Series:
    """A segment's own daily values: ``before``, then ``after`` from a week before ``end``."""
    index = pd.date_range(end=end, periods=periods, freq="D")
    return pd.Series(np.where(index >= end - timedelta(days=7), after, before), index=index)


def revisit_finding(period: datetime) -> Explanation:
    finding = Finding(
        metric="revisit_rate",
        segment={},
        kind=FindingKind.CHANGE_POINT,
        period=period,
        value=0.312,
        expected=0.353,
        lower=0.333,
        upper=0.373,
        direction=Direction.DOWN,
        severity=Severity.CRITICAL,
        score=4.25,
        since=period - timedelta(days=7),
        reason=Note(
            "reason_change_point_down",
            {"before": 0.353, "after": 0.312, "since": period - timedelta(days=7), "sigma": 4.25},
        ),
    )
    causes = [
        Cause(
            segment={"channel": "app", "device": "android"},
            share=0.78,
            value_before=0.36,
            value_after=0.29,
            size_before=12000.0,
            size_after=12500.0,
            rate_effect=-0.03,
            mix_effect=-0.002,
            confidence=0.99,
        ),
        Cause(
            segment={"region": XSS},
            share=0.1,
            value_before=0.3,
            value_after=0.25,
            size_before=800.0,
            size_after=790.0,
            rate_effect=-0.004,
            mix_effect=0.0,
            confidence=0.6,
        ),
    ]
    return Explanation(finding=finding, causes=causes, explained_share=0.88)


def report_input(
    period: datetime,
    *,
    metric: str = "revisit_rate",
    title: str = "Revisit rate",
    findings: bool = True,
    value: float = 0.312,
) -> ReportInput:
    run = RunResult(
        metric=metric,
        title=title,
        period=period,
        value=value,
        explanations=[revisit_finding(period)] if findings else [],
        notes=[FOLDED],
    )
    return ReportInput(
        run=run,
        history=history(period),
        unit="percent",
        good="up",
        grain="day",
        dimensions=["channel", "device", "region"],
        segments=[
            ({"channel": "app", "device": "android"}, segment_series(period, 0.36, 0.29)),
            ({"region": XSS}, segment_series(period, 0.3, 0.25)),
        ],
    )
