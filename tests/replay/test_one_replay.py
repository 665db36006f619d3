"""One replay, whatever the start: ``backfill`` from any start, a day-by-day run on an
empty state store and one on a warm store find the same alerts on the days they share,
on the demo warehouse and on a small shop warehouse that is not the demo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from agent.store import open_store
from tests.replay.conftest import DAYS, END, FIRST, World


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
