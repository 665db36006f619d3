"""The loop: a metric's source → cube → detect → attribute → report → delivery.

The stages (``detect``, ``attribute``, ``sources``, ``report``, ``notify``, ``feedback``,
``voice``, ``store``) never import each other nor this package; only the modules here
wire them together, and ``agent.cli`` and ``agent.schedule`` reach the stages' work
through the names below.

* ``run`` – a metric's run, replay and backfill, and the warehouse and state they open.
* ``workspace`` – what runs of one config share (warehouse, store, cube shelf, context).
* ``metric_run`` – one metric over its periods: cube, findings, attribution, episodes.
* ``fetch`` – the cube from the store's copy and only the newer rows from the warehouse.
* ``windows``, ``watched`` – like-period judging and the watched segments' findings.
* ``enrich``, ``listening`` – feedback, expected windows, factors and customers' voice.
* ``deliver`` – a recorded run's alerts queued and sent.
* ``explain`` – ``cx-agent explain``: one segment and period, reported.
* ``isolate`` – metrics run one after another so one failure stays one failure.
* ``shelf`` – cubes kept on disk between the runs of one replay.

``explain`` is left out of the names below so that commands that do not explain do not
load what it loads; import it from ``agent.pipeline.explain``.
"""

from __future__ import annotations

from agent.pipeline.deliver import deliver_due
from agent.pipeline.isolate import Failed, failure_lines, run_each
from agent.pipeline.run import (
    Backfill,
    Workspace,
    backfill_metric,
    data_start,
    open_state_store,
    open_warehouse,
    replay_metric,
    run_in,
    run_metric,
    write_index,
)

__all__ = [
    "Backfill",
    "Failed",
    "Workspace",
    "backfill_metric",
    "data_start",
    "deliver_due",
    "failure_lines",
    "open_state_store",
    "open_warehouse",
    "replay_metric",
    "run_each",
    "run_in",
    "run_metric",
    "write_index",
]
