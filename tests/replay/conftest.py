"""The worlds the replay tests run on: the demo warehouse and a small shop warehouse."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from agent.config import Config, load_config
from agent.periods import evaluated_period
from agent.pipeline.metric_run import MetricJob
from agent.pipeline.run import open_warehouse
from agent.sources.base import Source
from agent.sources.demo import generate
from agent.store import Store
from agent.store.keys import segment_key
from tests.conftest import REPO
from tests.replay.shop import METRICS, write_shop

END = date(2026, 11, 20)
DAYS = 60
"""Days replayed: the demo's incidents all lie in them."""
Alert = tuple[date, str, str, tuple[str, ...], str, str]
"""Day, metric, onset, segments, severity, direction of a new alert."""


class World:
    """A warehouse, its config, and the alerts of one replay over its last DAYS days."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.config: Config = load_config(home / "metrics.yaml")
        self._source = open_warehouse(self.config, home / "metrics.yaml")
        self.source: Source = self._source.__enter__()
        self.truth = {a for name in self.config.metrics for a in self.alerts(name, FIRST, END)}

    def alerts(self, name: str, first: date, last: date, store: Store | None = None) -> set[Alert]:
        """The new alerts of a replay of ``name`` from ``first`` to ``last``, with the
        warehouse read from scratch (and through ``store``'s cubes when given)."""
        job = MetricJob.fetch(self.config, name, self.source, first, last, store)
        return {_alert(name, ep) for r in job.replay(first, last) for ep in r.alerts}

    def between(self, alerts: set[Alert], first: date, last: date) -> set[Alert]:
        """Those of ``alerts`` in the periods a run from ``first`` to ``last`` judges (for a
        weekly metric, the weeks complete on those days)."""
        return {a for a in alerts if self.period(a[1], first) <= a[0] <= self.period(a[1], last)}

    def period(self, name: str, as_of: date) -> date:
        return evaluated_period(as_of, self.config.metrics[name].grain)

    def close(self) -> None:
        self._source.__exit__(None, None, None)


FIRST = END - timedelta(days=DAYS - 1)


def _alert(name: str, ep: object) -> Alert:
    segments = tuple(segment_key(s) for s in ep.all_segments)  # type: ignore[attr-defined]
    return (
        ep.last_seen.date(),  # type: ignore[attr-defined]
        name,
        ep.since.date().isoformat(),  # type: ignore[attr-defined]
        segments,
        ep.severity.value,  # type: ignore[attr-defined]
        ep.direction.value,  # type: ignore[attr-defined]
    )


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / "metrics.yaml", home / "metrics.yaml")
    (home / "demo").mkdir()
    generate(home / "demo" / "warehouse.duckdb", end=END, seed=7, customers=4000)
    world = World(home)
    yield world
    world.close()


@pytest.fixture(scope="package")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("shop")
    (home / "metrics.yaml").write_text(METRICS)
    write_shop(home / "shop.duckdb", end=END, seed=1)
    world = World(home)
    yield world
    world.close()
