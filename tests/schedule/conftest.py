"""``cx-agent serve`` as a user runs it: a subprocess on a small demo warehouse."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.sources.demo import generate
from agent.store import open_store
from agent.store.schema import deliveries, findings, runs
from tests.conftest import REPO

METRICS = ("nps", "conversion")
CONFIG = """\
version: 1
timezone: UTC
warehouse: duckdb:///warehouse.duckdb
channels:
  outbox: {type: files}
sources:
  activity: {table: customer_events, time: event_time, entity: customer_id, freshness: FRESH}
  nps: {table: customer_nps, time: response_time, entity: customer_id, freshness: FRESH}
metrics:
  nps:
    title: Net Promoter Score
    source: nps
    kind: ratio
    numerator: "CASE WHEN score >= 9 THEN 100 WHEN score <= 6 THEN -100 ELSE 0 END"
    denominator: "1"
    dimensions: [channel]
    detect: {threshold: {below: 60}}
    notify: [outbox]
  conversion:
    title: Conversion rate
    source: activity
    kind: ratio
    numerator: "CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END"
    denominator: "CASE WHEN event_type = 'visit' THEN 1 ELSE 0 END"
    dimensions: [channel, device]
    detect: {anomaly: {sensitivity: medium}}
"""
WAIT = 300.0
"""Seconds a test waits for serve to log something before it gives up."""


def yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def make_home(home: Path, data_end: date, freshness: str = "{wait: 1s, retry: 1s}") -> Path:
    """metrics.yaml and a 2,000-customer demo warehouse ending on ``data_end``."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "metrics.yaml"
    config.write_text(CONFIG.replace("FRESH", freshness))
    generate(home / "warehouse.duckdb", end=data_end, seed=5, customers=2000)
    return config


class Serve:
    """A running ``cx-agent serve`` whose stderr (JSON lines) goes to a file."""

    def __init__(self, home: Path, *args: str) -> None:
        self.log = home / f"serve-{time.monotonic_ns()}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CX_AGENT_")}
        env["PYTHONPATH"] = str(REPO)
        with self.log.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agent", "serve", *args],
                cwd=home,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def events(self, name: str | None = None) -> list[dict]:
        lines = [line for line in self.log.read_text().splitlines() if line.startswith("{")]
        found = [json.loads(line) for line in lines]
        return [e for e in found if name is None or e["event"] == name]

    def wait_for(self, done: Callable[[list[dict]], bool]) -> list[dict]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            events = self.events()
            if done(events):
                return events
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}: {self.log.read_text()}")
            time.sleep(0.2)
        raise AssertionError(f"serve did not get there in {WAIT:.0f}s: {self.log.read_text()}")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=WAIT)


@pytest.fixture
def serve() -> Iterator[Callable[..., Serve]]:
    started: list[Serve] = []

    def start(home: Path, *args: str) -> Serve:
        started.append(Serve(home, *args))
        return started[-1]

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def ran(metric: str, times: int = 1) -> Callable[[list[dict]], bool]:
    """Whether ``metric`` has logged ``times`` finished runs."""
    return lambda events: (
        sum(e["event"] == "run" and e["metric"] == metric for e in events) >= times
    )


def recorded(home: Path) -> list[tuple[str, date, str]]:
    """(metric, period, status) of every recorded run, sorted."""
    store = open_store("sqlite:///state/cx-agent.db", base_dir=home)
    with store.engine.connect() as conn:
        rows = conn.execute(select(runs.c.metric, runs.c.period, runs.c.status)).all()
    store.close()
    return sorted((m, p.date(), s) for m, p, s in rows)


def deliveries_made(home: Path) -> list[tuple[str, str | None, str, str]]:
    """(channel, episode, decision, status) of every alert delivery in the outbox table."""
    store = open_store("sqlite:///state/cx-agent.db", base_dir=home)
    d = deliveries.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(d.channel, d.episode_id, d.decision, d.status)).all()
    store.close()
    return sorted(tuple(row) for row in rows)  # type: ignore[misc]


def recorded_findings(home: Path) -> list[tuple[str, date, str, str]]:
    """(metric, period, kind, segment) of every recorded finding, sorted."""
    store = open_store("sqlite:///state/cx-agent.db", base_dir=home)
    f = findings.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(f.metric, f.period, f.kind, f.segment)).all()
    store.close()
    return sorted((m, p.date(), k, json.dumps(s, sort_keys=True)) for m, p, k, s in rows)
