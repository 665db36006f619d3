"""The outbox drains itself: a delivery that failed goes out on the next run, news or not.

A real webhook receiver on 127.0.0.1 answers 500, then 200; ``cx-agent run --once`` and
``cx-agent status`` run in this process, as the console script runs them, on a small
demo warehouse. Time passing is written into the store (the retry time moved back).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from agent.notify import deliver
from agent.notify.webhook import WebhookNotifier, WebhookSpec
from agent.pipeline import deliver as pipeline_deliver
from agent.sources.demo import generate
from agent.store import Store, open_store
from agent.store.runs import utcnow
from agent.store.schema import deliveries
from tests.conftest import Result
from tests.notify.conftest import HOOK_SECRET, alert, in_process
from tests.notify.servers import Webhook
from tests.notify.test_delivery import record

END = date(2025, 6, 30)
CONFIG = """\
version: 1
timezone: UTC
warehouse: duckdb:///{warehouse}
channels:
  hook: {{type: webhook, url: "{url}", secret: "{secret}"}}
sources:
  nps: {{table: customer_nps, time: response_time, entity: customer_id}}
metrics:
  nps:
    title: Net Promoter Score
    source: nps
    kind: ratio
    numerator: "CASE WHEN score >= 9 THEN 100 WHEN score <= 6 THEN -100 ELSE 0 END"
    denominator: "1"
    detect: {{threshold: {{below: 60}}}}
    notify: [hook]
"""
Run = Callable[..., Result]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("drain") / "warehouse.duckdb"
    generate(path, end=END, seed=5, customers=2000)
    return path


@pytest.fixture
def cx_agent(
    tmp_path: Path,
    warehouse: Path,
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Run:
    """``cx-agent ARGS`` in this process, in a home whose nps metric alerts the webhook.

    A run tries a channel that is down once instead of waiting out its retries for two
    minutes (the delivery budget): what is left is for the next run."""
    text = CONFIG.format(warehouse=warehouse, url=webhook.url, secret=HOOK_SECRET)
    (tmp_path / "metrics.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pipeline_deliver, "DELIVERY_BUDGET", timedelta(0))

    return lambda *args: in_process(monkeypatch, capsys, *args)


def _rows(home: Path) -> list[tuple[str, int]]:
    store = open_store("sqlite:///state/cx-agent.db", base_dir=home)
    with store.engine.connect() as conn:
        found = conn.execute(select(deliveries.c.status, deliveries.c.attempts)).all()
    store.close()
    return [(status, attempts) for status, attempts in found]


def _age(home: Path, **values: object) -> None:
    """Time passes: the delivery's retry time (or lease) is ten minutes ago."""
    store = open_store("sqlite:///state/cx-agent.db", base_dir=home)
    with store.transaction() as conn:
        moved = {"next_attempt_at": utcnow() - timedelta(minutes=10)} | values
        conn.execute(update(deliveries).values(**moved))
    store.close()


def test_a_failed_delivery_goes_out_on_the_next_run_of_its_metric(
    cx_agent: Run, webhook: Webhook, tmp_path: Path
) -> None:
    webhook.statuses.extend([500] * 5)
    first = cx_agent("run", "--once", "--as-of", END.isoformat(), "--metric", "nps")
    pending, received = _rows(tmp_path), len(webhook.received)
    _age(tmp_path)
    late = cx_agent("status")
    webhook.statuses.clear()  # the receiver is back: 200 from now on

    again = cx_agent("run", "--once", "--as-of", END.isoformat(), "--metric", "nps")
    after = cx_agent("status")

    assert first.code == 2, first.err
    assert pending == [("pending", 1)] and received == 0
    assert late.code == 1
    assert "STUCK nps: 1 alert deliveries wait past their retry time" in late.out
    assert again.code == 2, again.err
    [sent] = webhook.received
    assert sent["body"]["alerts"][0]["metric"] == "nps"
    assert _rows(tmp_path) == [("sent", 2)]  # the same row: the run queued nothing new
    assert after.code == 0 and after.out.splitlines()[-1] == "Nothing is stuck."


def test_a_delivery_left_sending_by_a_killed_process_is_retried_and_status_says_so(
    cx_agent: Run, webhook: Webhook, tmp_path: Path
) -> None:
    webhook.statuses.extend([500] * 5)
    cx_agent("run", "--once", "--as-of", END.isoformat(), "--metric", "nps")
    _age(tmp_path, status="sending")  # killed mid-send: its lease ran out
    stuck = cx_agent("status")
    webhook.statuses.clear()

    again = cx_agent("run", "--once", "--as-of", END.isoformat(), "--metric", "nps")

    assert stuck.code == 1 and "1 alert deliveries wait past their retry time" in stuck.out
    assert again.code == 2, again.err
    assert len(webhook.received) == 1 and _rows(tmp_path) == [("sent", 2)]


def test_a_lease_that_ran_out_after_the_expiry_ends_expired_not_sending(
    store: Store, webhook: Webhook
) -> None:
    record(store, "cx-hook", alert())
    old = utcnow() - timedelta(days=2)
    with store.transaction() as conn:
        conn.execute(update(deliveries).values(status="sending", next_attempt_at=old))
    spec = WebhookSpec(type="webhook", url=webhook.url, secret=HOOK_SECRET)
    hook = WebhookNotifier("cx-hook", spec)
    assert dict(deliver(store, {"cx-hook": hook}, now=utcnow())) == {"expired": 1}
    with store.engine.connect() as conn:
        assert conn.execute(select(deliveries.c.status)).scalars().all() == ["expired"]
    assert webhook.received == []
