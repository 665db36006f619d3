"""A recorded run's alerts, handed to the notify stage: built, routed, recorded, delivered.

Called by ``agent.pipeline.run`` right after a run is recorded, so every delivery refers to a
recorded run and its episodes. Nothing is queued for a metric without ``notify:``, but
every run sends what is due in the outbox (``deliver_due``), as ``serve`` does between
runs: a delivery that failed is retried without waiting for news to carry it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agent.config import Config
from agent.notify import (
    NotifyPolicy,
    RunBody,
    active_silences,
    build_notifiers,
    deliver,
    enqueue,
    flush,
    has_work,
    route,
)
from agent.report import ReportInput, email_report, json_contract
from agent.report.alert import build_alerts
from agent.store import Store
from agent.store.runs import utcnow

__all__ = ["DELIVERY_BUDGET", "deliver_due", "notify_run", "report_url"]

DELIVERY_BUDGET = timedelta(minutes=2)
"""How long a run waits out retries of a channel that is down; later runs retry the rest."""


def report_url(config: Config, report_path: str | None, reports_dir: Path) -> str | None:
    """The report's address: under ``reports.base_url`` when set, else its local file URL."""
    if report_path is None:
        return None
    base = config.reports.base_url
    if base:
        return f"{base.rstrip('/')}/{report_path}"
    return (reports_dir / report_path).resolve().as_uri()


def notify_run(
    store: Store, config: Config, inp: ReportInput, report_path: str | None, reports_dir: Path
) -> None:
    """Record what each of the metric's channels is to hear about this run, then send it,
    with whatever else waits in the outbox: a delivery that failed earlier is retried by
    the next run, whichever metric it runs and whether or not it has news."""
    queued = _enqueue(store, config, inp, report_path, reports_dir)
    deliver_due(store, config, reports_dir, wait=queued > 0)


def deliver_due(store: Store, config: Config, reports_dir: Path, *, wait: bool) -> None:
    """Send what the outbox holds that is due now; ``wait``: wait out retries for up to
    DELIVERY_BUDGET (a run that queued news), else one pass (``serve`` between runs)."""
    if not has_work(store, utcnow()):
        return
    notifiers = build_notifiers(config.channels, base_dir=reports_dir)
    if wait:
        flush(store, notifiers, budget=DELIVERY_BUDGET)
    else:
        deliver(store, notifiers, now=utcnow())


def _enqueue(
    store: Store, config: Config, inp: ReportInput, report_path: str | None, reports_dir: Path
) -> int:
    """Record this run's alerts for the metric's channels; the number of rows queued."""
    spec = config.metrics[inp.run.metric]
    if not spec.notify:
        return 0
    url = report_url(config, report_path, reports_dir)
    alerts = build_alerts(inp, report_url=url, owners=spec.owners)
    if not alerts:
        return 0
    now = utcnow()
    floors = {name: config.channels[name].min_severity for name in spec.notify}
    routed = route(alerts, floors, active_silences(store, now))
    policy = NotifyPolicy(spec.renotify.worse_by, spec.renotify.remind_every)
    # the file channel writes the alert only: no need to render the email and chart for it
    rich = any(config.channels[name].type != "files" for name in spec.notify)
    body = (
        (lambda: _body(inp, _attachments(inp, reports_dir, config.reports.attach_rows)))
        if rich
        else None
    )
    return enqueue(store, routed, now=now, policy=policy, body=body)


def _body(inp: ReportInput, attachments: dict[str, bytes]) -> RunBody:
    mail = email_report(inp)
    contract = json_contract(inp)
    return RunBody(mail.subject, mail.html, mail.text, mail.images, contract, attachments)


def _attachments(inp: ReportInput, reports_dir: Path, max_rows: int) -> dict[str, bytes]:
    """The customer lists of the run's findings with at most ``max_rows`` rows, by file
    name: they travel with the email; longer ones stay linked from the report."""
    return {
        Path(x.path).name: (reports_dir / x.path).read_bytes()
        for e in inp.run.explanations
        for x in e.exports
        if x.rows <= max_rows and (reports_dir / x.path).is_file()
    }
