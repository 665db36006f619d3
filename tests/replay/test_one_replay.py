"""One replay, whatever the start: ``backfill`` from any start, a day-by-day run on an
empty state store and one on a warm store find the same alerts on the days they share,
on the demo warehouse and on a small shop warehouse that is not the demo."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from agent.config import Config, load_config
from agent.job import MetricJob
from agent.periods import evaluated_period
from agent.run import open_warehouse
from agent.sources.base import Source
from agent.sources.demo import generate
from agent.store import Store, open_store
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


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / "metrics.yaml", home / "metrics.yaml")
    (home / "demo").mkdir()
    generate(home / "demo" / "warehouse.duckdb", end=END, seed=7, customers=4000)
    world = World(home)
    yield world
    world.close()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("shop")
    (home / "metrics.yaml").write_text(METRICS)
    write_shop(home / "shop.duckdb", end=END, seed=1)
    world = World(home)
    yield world
    world.close()


def test_the_worlds_have_alerts_to_agree_on(demo: World, shop: World) -> None:
    """A property over no alerts at all would prove nothing."""
    assert {a[1] for a in demo.truth} >= {"nps", "conversion"}
    assert {a[1] for a in shop.truth} >= {"checkout"}


replays = settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a replay takes seconds: no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
days = st.integers(0, DAYS - 1)


@replays
@given(data=st.data(), start=days, length=st.integers(0, 24), day=days, later=st.integers(1, 9))
@pytest.mark.parametrize("world_name", ["demo", "shop"])
def test_backfill_and_daily_runs_agree_whatever_the_start(
    world_name: str,
    data: st.DataObject,
    start: int,
    length: int,
    day: int,
    later: int,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    world: World = request.getfixturevalue(world_name)
    name = data.draw(st.sampled_from(sorted(world.config.metrics)), label="metric")
    truth = {a for a in world.truth if a[1] == name}
    first = FIRST + timedelta(days=start)
    last = min(first + timedelta(days=length), END)
    assert world.alerts(name, first, last) == world.between(truth, first, last)

    # day by day on an empty store, then on the store the first day warmed
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('state') / 'state.db'}")
    one = FIRST + timedelta(days=day)
    for when in (one, min(one + timedelta(days=later), END)):
        assert world.alerts(name, when, when, store) == world.between(truth, when, when), when
    store.close()
