"""Insight test fixtures: a tiny warehouse whose support contacts jump, and the demo one."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from agent.config import Config, load_config
from agent.sources.demo import generate, write_ground_truth
from tests.conftest import REPO

FIRST, ONSET, LAST = date(2025, 11, 10), date(2026, 3, 16), date(2026, 3, 19)
BEFORE, AFTER = 1000, 1300
"""Contacts per day before ONSET and from it on."""

METRICS = """
version: 1
timezone: Asia/Seoul
country: KR
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///state/cx-agent.db
sources:
  contacts: {table: contacts, time: contact_time}
metrics:
  support_contacts:
    title: Support contacts
    source: contacts
    kind: count
    good: down
    dimensions: [channel]
    detect:
      change_point: {min_shift: 50}
    tuning: {false_alarms: 3, max_min_shift: 1000}
"""


def write_warehouse(path: Path) -> None:
    rng = np.random.default_rng(3)
    days = pd.date_range(FIRST, LAST, freq="D")
    counts = rng.poisson(np.where(days.date >= ONSET, AFTER, BEFORE))
    day = np.repeat(days.to_numpy(), counts)
    seconds = rng.integers(0, 86_400, day.size).astype("timedelta64[s]")
    frame = pd.DataFrame(
        {
            "contact_time": (day + seconds).astype("datetime64[us]"),
            "channel": rng.choice(["phone", "chat"], day.size),
        }
    )
    with duckdb.connect(str(path)) as con:
        con.register("frame", frame)
        con.execute("CREATE TABLE contacts AS SELECT * FROM frame")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A folder with metrics.yaml and the warehouse; the store goes to state/."""
    (tmp_path / "metrics.yaml").write_text(METRICS, encoding="utf-8")
    write_warehouse(tmp_path / "warehouse.duckdb")
    return tmp_path


@pytest.fixture
def config(home: Path) -> Config:
    return load_config(home / "metrics.yaml")


DEMO_END = date(2026, 11, 20)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's metrics.yaml over a 20,000-customer demo warehouse."""
    home = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / "metrics.yaml", home / "metrics.yaml")
    (home / "demo").mkdir()
    incidents = generate(home / "demo" / "warehouse.duckdb", end=DEMO_END, customers=20_000)
    write_ground_truth(incidents, home / "demo" / "incidents.json")
    return home
