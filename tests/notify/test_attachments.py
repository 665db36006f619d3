"""Customer lists travel with the email when short enough (``reports.attach_rows``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agent.config import load_config
from agent.model import CustomerExport
from agent.pipeline.deliver import notify_run
from agent.report import ReportInput
from agent.store import Store
from tests.notify.conftest import SMTPServer
from tests.notify.test_alert import PERIOD, with_episode
from tests.report import report_input

CONFIG = """\
version: 1
warehouse: duckdb:///w.duckdb
reports: {dir: reports, attach_rows: 3}
channels:
  cx-mail: {type: email, to: [cx@example.com], smtp: "%s", ca_file: "%s"}
sources:
  visits: {table: events, time: event_time, entity: customer_id}
metrics:
  revisit_rate:
    title: Revisit rate
    source: visits
    kind: returning
    lookback: 7d
    notify: [cx-mail]
"""


def _with_exports(inp: ReportInput, reports: Path, sizes: dict[str, int]) -> ReportInput:
    """``inp`` whose first finding exported one customer CSV per region of ``sizes``."""
    exports = []
    for region, rows in sizes.items():
        path = f"2024-03-01/revisit_rate-region-{region}.csv"
        lines = ["customer_id,last_activity", *(f"{i},2024-02-20 10:00" for i in range(rows))]
        (reports / path).parent.mkdir(parents=True, exist_ok=True)
        (reports / path).write_text("\n".join(lines) + "\n", encoding="utf-8")
        exports.append(CustomerExport({"region": region}, path, rows, ["customer_id"]))
    e = dataclasses.replace(inp.run.explanations[0], exports=exports)
    run = dataclasses.replace(inp.run, explanations=[e, *inp.run.explanations[1:]])
    return dataclasses.replace(inp, run=run)


def test_lists_up_to_attach_rows_are_attached_and_longer_ones_are_not(
    tmp_path: Path, store: Store, smtp: SMTPServer, ca_file: Path
) -> None:
    (tmp_path / "metrics.yaml").write_text(CONFIG % (smtp.url(), ca_file))
    config = load_config(tmp_path / "metrics.yaml")
    reports = tmp_path / "reports"
    inp = _with_exports(with_episode(report_input(PERIOD)), reports, {"Busan": 3, "Seoul": 4})

    notify_run(store, config, inp, "2024-03-01/revisit_rate.html", reports)

    [mail] = smtp.mailbox.messages
    attached = {part.get_filename(): part for part in mail.iter_attachments()}
    assert set(attached) == {"revisit_rate-region-Busan.csv"}
    part = attached["revisit_rate-region-Busan.csv"]
    assert part.get_content_type() == "text/csv"
    small = reports / "2024-03-01/revisit_rate-region-Busan.csv"
    assert part.get_content().replace("\r\n", "\n") == small.read_text(encoding="utf-8")
    assert mail.get_body(("html",)) is not None  # the report still reads as the body
