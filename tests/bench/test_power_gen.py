"""bench.power's generated warehouses hold what their ground truth says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench._power_customers import random_cells
from bench._power_entity import correlated_strength
from bench._power_gen import session_rows, warehouse
from bench._power_incidents import Planter, strength_of
from bench._power_world import draw_world
from tests.conftest import cx_agent

SMALL = 1007
"""A tuning seed whose warehouse has ~4,100 sessions a day from customers (fast to build)."""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return warehouse("family", SMALL, tmp_path_factory.mktemp("power"))


def test_a_new_users_metrics_yaml_finds_every_table_and_column(home: Path) -> None:
    result = cx_agent("validate", "--connect", cwd=home)
    assert result.code == 0, result.err
    assert "every table and column found" in result.out
    metrics = ("conversion", "average_order_value", "nps", "churn", "revisit_rate", "premium_share")
    for metric in metrics:
        assert f"  {metric} " in result.out


def test_a_planted_drop_shows_in_its_segment_in_the_drawn_sessions() -> None:
    world = draw_world(SMALL)
    rng = np.random.default_rng(0)
    dim = world.dims[0]
    segment = {dim.column: dim.values[int(np.argmax(dim.weights))]}  # its largest value
    first = (world.eval_start - world.start).days
    drop = Planter(world, rng).plant("segment_drop", "conversion", segment, first, 20, 0.5)
    assert (drop.share, drop.strength) > (0.1, 8)
    cells = random_cells(world, rng)
    rows = session_rows(world, rng, cells)
    day = (rows[world.names["time"]] - pd.Timestamp(world.start)).dt.days
    inside = rows[dim.column] == segment[dim.column]

    def change(where: pd.Series) -> float:
        during = rows.converted[where & day.between(first, first + 19)].mean()
        return float(during / rows.converted[where & day.between(first - 28, first - 1)].mean())

    # Against the rest of the sessions over the same days (seasonality cancels out).
    assert change(inside) / change(~inside) - 1 == pytest.approx(-0.5, abs=0.1)


def test_strength_is_a_constant_move_in_sd_times_the_root_of_its_days() -> None:
    strength, early, peak = strength_of(np.full(9, 2.0), np.full(9, 1.0))
    assert strength == pytest.approx(2 * 3)
    assert early == pytest.approx(2 * 2)  # its first 4 days
    assert peak == pytest.approx(2)


def test_days_correlated_over_a_window_carry_less_evidence() -> None:
    independent = correlated_strength(np.full(28, 1.0), np.full(28, 1.0), 1)[0]
    churn_like = correlated_strength(np.full(28, 1.0), np.full(28, 1.0), 14)[0]
    assert independent == pytest.approx(np.sqrt(28))
    assert churn_like < independent / 3
