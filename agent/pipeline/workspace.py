"""The metric jobs of one run, and what they share: other metrics' cubes, known events.

A run of many metrics (``cx-agent run`` over a whole metrics.yaml, the demo's replay)
holds in memory only the jobs of the metrics being run. Every cube fetched goes on the
``CubeShelf`` (on disk) when its metric's run is done, because a later finding's
behavioural context measures other metrics in its segments; the context reads back only
the rows of the segment it asks about. A metric fetched early, as context of another,
waits for its own run with its cube on the shelf, so no metric is queried twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from agent.attribute.context import (
    EVENT_COLUMNS,
    EventSpec,
    EventTable,
    events_from_rows,
    events_near,
    related_change,
)
from agent.config import Config
from agent.errors import SourceError
from agent.feedback import ExpectedWindow, expected_windows, false_alarms
from agent.model import Cause, Finding, KnownEvent, Note, Related
from agent.notify.silences import active_silences, silence_notes
from agent.pipeline.enrich import Insight, suppress, tuned_config
from agent.pipeline.metric_run import Context, MetricJob, PeriodResult
from agent.pipeline.shelf import CubeShelf
from agent.sources.base import Source
from agent.store import Store
from agent.store.runs import utcnow

__all__ = ["CONTEXT_CAUSES", "Workspace"]

CONTEXT_CAUSES = 2
"""Top causes whose segments get behavioural context (related metrics) in a report."""


class Workspace:
    """The metric jobs of one run over ``first``..``last``, each fetched once, on demand.

    ``job`` gives a metric's whole job for its run; ``release`` ends it, keeping only
    its cube, on the shelf, for the context of the metrics run after it.
    """

    def __init__(
        self, config: Config, source: Source, first: date, last: date, store: Store | None = None
    ) -> None:
        """``store``: where runs are recorded and final cube periods reused (None: neither)."""
        self.config, self.source, self.first, self.last = config, source, first, last
        self.store = store
        self._jobs: dict[str, MetricJob] = {}
        self._waiting: dict[str, MetricJob] = {}
        """Jobs fetched as another metric's context, their cube on the shelf (kept empty
        here) until their own run."""
        self._shelf = CubeShelf()
        self._failed: dict[str, SourceError] = {}
        self._events: list[EventSpec] | None = None
        self._insight: dict[str, tuple[Insight, list[ExpectedWindow]]] = {}

    @property
    def held(self) -> list[str]:
        """The metrics whose whole job (cube included) is in memory: those being run."""
        return list(self._jobs)

    def job(self, name: str) -> MetricJob:
        """``name``'s job; a SourceError when its source failed (once: a query the
        warehouse refused is not sent again in this run)."""
        if name in self._waiting:
            self._jobs[name] = replace(self._waiting.pop(name), cube=self._shelf.cube(name))
        if name not in self._jobs:
            self._jobs[name] = self._fetch(name)
        return self._jobs[name]

    def release(self, name: str) -> None:
        """``name``'s run is done: its job leaves memory, its cube stays on the shelf."""
        job = self._jobs.pop(name, None)
        if job is not None:
            self._shelf.put(name, job.cube)
        self._insight.pop(name, None)

    def _fetch(self, name: str) -> MetricJob:
        if name in self._failed:
            raise self._failed[name]
        config, notes = self._tuned(name)
        try:
            job = MetricJob.fetch(config, name, self.source, self.first, self.last, self.store)
        except SourceError as exc:
            if not exc.unreachable:  # the warehouse may be back for the next one
                self._failed[name] = exc
            raise
        return replace(job, notes=job.notes + notes) if notes else job

    def _shelved(self, name: str) -> None:
        """Put ``name``'s cube on the shelf, fetching its job (to wait there) if need be."""
        if name in self._shelf:
            return
        if name in self._jobs:
            self._shelf.put(name, self._jobs[name].cube)
            return
        job = self._fetch(name)
        self._shelf.put(name, job.cube)
        self._waiting[name] = _without_cube(job)

    def _cube(self, name: str) -> pd.DataFrame:
        """``name``'s whole cube, read back from the shelf."""
        self._shelved(name)
        return self._shelf.cube(name)

    def _tuned(self, name: str) -> tuple[Config, tuple[Note, ...]]:
        """The config with ``name``'s detectors tuned by the alerts marked false."""
        if self.store is None:
            return self.config, ()
        return tuned_config(self.config, name, false_alarms(self.store, name))

    def act(
        self, name: str, result: PeriodResult, reports_dir: Path, *, export: bool
    ) -> PeriodResult:
        """``result`` as the team acts on it (see ``agent.pipeline.enrich``): moves marked expected
        left out; factors, feedback links and (``export``) customer lists added."""
        if name not in self._insight:
            windows = expected_windows(self.store, name) if self.store else []
            self._insight[name] = (Insight(self.config, name, self.source, self._cube), windows)
        insight, windows = self._insight[name]
        result = suppress(result, windows)
        run = insight.add(result.run, reports_dir, export=export)
        if self.store is not None:
            silenced = silence_notes(
                run, active_silences(self.store, utcnow()), self.config.timezone
            )
            run = replace(run, notes=run.notes + silenced)
        return replace(result, run=run)

    def context(self, name: str) -> Context:
        """Related metrics in the top causes' segments and known events near the onset."""

        def explain(
            finding: Finding, causes: list[Cause]
        ) -> tuple[list[Related], list[KnownEvent]]:
            segments = [c.segment for c in causes[:CONTEXT_CAUSES]]
            related = [r for seg in segments for r in self._related(name, finding, seg)]
            grain = self.config.metrics[name].grain
            return related, events_near(self.events(), finding, segments, grain)

        return explain

    def events(self) -> list[EventSpec]:
        """metrics.yaml ``events:``, read from the warehouse once when it names a table."""
        if self._events is None:
            spec = self.config.events
            self._events = self._read_events(spec.table) if isinstance(spec, EventTable) else spec
        return self._events

    def _read_events(self, table: str) -> list[EventSpec]:
        rows = self.source.fetch_events(table)
        try:
            return events_from_rows(rows)
        except (ValidationError, KeyError, ValueError) as exc:
            raise SourceError(
                f"reading the known events in table {table}",
                f"unreadable event row ({str(exc).splitlines()[0]}); the table needs columns "
                f"name and start_date, and may have {', '.join(EVENT_COLUMNS[1:])} and "
                "dimension columns",
                f"SELECT * FROM {table}",
            ) from exc

    def _related(self, name: str, finding: Finding, segment: dict[str, str]) -> list[Related]:
        grain = self.config.metrics[name].grain
        found = []
        for other, spec in self.config.metrics.items():
            if other == name or spec.grain != grain or not set(segment) <= set(spec.dimensions):
                continue
            try:
                self._shelved(other)
            except SourceError as exc:  # its own run says so; this one goes on without it
                if exc.unreachable:
                    raise
                continue
            change = related_change(
                self._shelf.rows(other, segment),
                finding,
                segment,
                dimensions=spec.dimensions,
                additive=spec.additive,
                grain=grain,
                periods=self._shelf.periods(other),
            )
            if change is not None:
                found.append(Related(other, spec.title, dict(segment), *change, spec.display_unit))
        return found


def _without_cube(job: MetricJob) -> MetricJob:
    """``job`` with an empty cube of the same columns, built anew: a slice of the real
    one would keep its arrays alive."""
    empty = pd.DataFrame({column: pd.Series(dtype=t) for column, t in job.cube.dtypes.items()})
    return replace(job, cube=empty)
