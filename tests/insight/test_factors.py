"""Factor trees: a product metric's change split into its factors' log changes."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from agent.attribute.factors import Factor, factor_moves, log_shares
from agent.model import Direction, Finding, FindingKind, Severity

TZ = ZoneInfo("Asia/Seoul")
SINCE = datetime(2026, 3, 1, tzinfo=TZ)


def test_shares_add_up_to_one_in_log_terms() -> None:
    shares = log_shares([(1000, 1010), (0.05, 0.04), (1.2, 1.2)])
    total = math.log(1.01) + math.log(0.8)
    assert shares == pytest.approx([math.log(1.01) / total, math.log(0.8) / total, 0.0])
    assert sum(shares) == pytest.approx(1.0)


def test_moves_that_cancel_are_shared_by_size() -> None:
    assert log_shares([(1.0, 2.0), (1.0, 0.5)]) == pytest.approx([0.5, -0.5])
    assert log_shares([(1.0, 1.0), (0.0, 3.0)]) == [0.0, 0.0]


def _cube(before: tuple[float, float], after: tuple[float, float]) -> pd.DataFrame:
    """60 days of one total leaf: ``before`` (num, den) until SINCE, ``after`` from it."""
    periods = pd.date_range("2026-01-01", "2026-03-10", freq="D", tz=TZ)
    rows = [after if p >= SINCE else before for p in periods]
    return pd.DataFrame(
        {"period": periods, "num": [r[0] for r in rows], "den": [r[1] for r in rows]}
    )


def test_the_factor_that_moved_comes_first() -> None:
    """orders = visitors × conversion × orders per converter: conversion fell 20 %."""
    factors = [
        Factor("visitors", "Visitors", "number", _cube((1000, 1), (1010, 1)), [], True),
        Factor("conversion", "Conversion", "percent", _cube((50, 1000), (40, 1000)), [], False),
        Factor(
            "orders_per_converter",
            "Orders per buyer",
            "number",
            _cube((60, 50), (48, 40)),
            [],
            False,
        ),
    ]
    finding = Finding(
        metric="orders",
        segment={},
        kind=FindingKind.CHANGE_POINT,
        period=datetime(2026, 3, 10, tzinfo=TZ),
        value=48.5,
        expected=60.0,
        lower=58.0,
        upper=62.0,
        direction=Direction.DOWN,
        severity=Severity.CRITICAL,
        score=9.0,
        since=SINCE,
    )
    moves = factor_moves(finding, factors, grain="day")
    assert [m.metric for m in moves] == ["conversion", "visitors", "orders_per_converter"]
    first = moves[0]
    assert (first.value_before, first.value_after) == pytest.approx((0.05, 0.04))
    assert first.share == pytest.approx(math.log(0.8) / (math.log(0.8) + math.log(1.01)))
    assert first.title == "Conversion" and first.unit == "percent"
    assert moves[2].share == 0.0
