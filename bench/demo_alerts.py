"""Alerts per planted incident on the demo, for demo warehouses ending on many days.

Run from the repository root: ``.venv/bin/python -m bench.demo_alerts [--ends judge|looked|all]``
(``--end DATE``, repeatable: only the demos ending on those days).

The demo plants its four incidents relative to its last day, while Korean holidays stay
on the calendar: each last day is another demo. For each, every metric of the
repository's metrics.yaml is replayed over the demo's 60 days (``cx-agent backfill``, which
finds the alerts the demo sends: tests/test_demo.py holds them equal) and the table says,
per demo, how many new alerts each incident got (the target: exactly one), how many days
after it became visible the first came, alerts before an incident's onset, alerts of the
metrics without an incident, and how many of those false alerts fell on a period whose
own days or look-back / churn window held a public holiday.

The last days ``LOOKED_AT`` were looked at while the holiday rules were designed
(tests/test_demo.py's 2026-11-20, the issue's 2026-12-06 and three around holidays);
``JUDGED`` were not, and are printed apart. Warehouses are cached in
``bench/.data/demo_alerts/`` (``CX_AGENT_DEMO_ALERTS_DIR``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import holidays

from agent.config import Config, MetricSpec, load_config
from agent.pipeline.run import backfill_metric, open_warehouse
from agent.sources.demo import Incident, generate, read_ground_truth, write_ground_truth

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("CX_AGENT_DEMO_ALERTS_DIR", REPO / "bench" / ".data" / "demo_alerts"))
DAYS = 60
CUSTOMERS = 50_000
LOOKED_AT = ("2026-10-20", "2026-11-20", "2026-12-06", "2027-01-20", "2027-03-15")
JUDGED = ("2026-06-10", "2026-09-05", "2027-02-25", "2027-05-20", "2027-10-05")


@dataclass(frozen=True)
class Demo:
    """One demo's alerts, sorted by what they were."""

    end: date
    alerts: dict[str, int]
    """Per incident metric, its new alerts on or after its onset."""
    lags: list[int]
    """Per alerted incident, days from visible to its first alert."""
    early: int
    """Alerts of an incident metric before the incident's onset."""
    clean: int
    """Alerts of the metrics without an incident."""
    holiday: int
    """Of ``early`` and ``clean``, those on a period whose days or window held a holiday."""


def _home(end: date) -> Path:
    home = DATA / end.isoformat()
    if not (home / "demo" / "incidents.json").exists():
        (home / "demo").mkdir(parents=True, exist_ok=True)
        incidents = generate(home / "demo" / "warehouse.duckdb", end=end, customers=CUSTOMERS)
        write_ground_truth(incidents, home / "demo" / "incidents.json")
    shutil.copy(REPO / "metrics.yaml", home / "metrics.yaml")
    return home


def _shaped(spec: MetricSpec, period: date, country: str) -> bool:
    """Whether the period's own days or the window its value reads held a holiday."""
    back = 0
    if spec.kind == "returning" and spec.lookback is not None:
        back = spec.lookback.days
    elif spec.kind == "churn" and spec.window is not None:
        back = 2 * spec.window.days
    length = 7 if spec.grain == "week" else 1
    days_off = holidays.country_holidays(country, years=range(period.year - 1, period.year + 1))
    return any(period + timedelta(days=n) in days_off for n in range(-back, length))


def _demo(end: date) -> Demo:
    home = _home(end)
    config: Config = load_config(home / "metrics.yaml")
    incidents: dict[str, Incident] = {
        i.metric: i for i in read_ground_truth(home / "demo" / "incidents.json")
    }
    alerts, lags, early, clean, holiday = {}, [], 0, 0, 0
    with open_warehouse(config, home / "metrics.yaml") as source:
        for name, spec in config.metrics.items():
            found = backfill_metric(config, name, end - timedelta(days=DAYS - 1), end, source)
            days = [a.last_seen.date() for a in found.alerts]
            incident = incidents.get(name)
            # a week alerts on its Monday: a week holding the onset is not early
            reach = timedelta(days=6 if spec.grain == "week" else 0)
            late = [d for d in days if incident is not None and d + reach >= incident.onset]
            false = [d for d in days if d not in late]
            if incident is not None:
                alerts[name] = len(late)
                lags += [(late[0] - incident.visible).days] if late else []
                early += len(false)
            else:
                clean += len(false)
            holiday += sum(_shaped(spec, d, config.country) for d in false)
    return Demo(end, alerts, lags, early, clean, holiday)


def _table(title: str, demos: list[Demo]) -> list[str]:
    lines = [
        "",
        title,
        f"{'last day':<11} {'alerts per incident (revisit churn nps conversion)':<52} "
        f"{'lag days':<16} {'early':>5} {'clean':>5} {'holiday':>7}",
    ]
    order = ("revisit_rate", "premium_churn", "nps", "conversion")
    for d in demos:
        counts = " ".join(str(d.alerts.get(m, "-")) for m in order)
        lags = ",".join(str(x) for x in d.lags)
        lines.append(
            f"{d.end.isoformat():<11} {counts:<52} {lags:<16} {d.early:>5} {d.clean:>5} "
            f"{d.holiday:>7}"
        )
    exact = sum(all(n == 1 for n in d.alerts.values()) for d in demos)
    lags = [x for d in demos for x in d.lags]
    lines.append(
        f"one alert per incident in {exact} of {len(demos)} demos; median lag "
        f"{statistics.median(lags) if lags else '-'} days; early {sum(d.early for d in demos)}, "
        f"clean {sum(d.clean for d in demos)}, of them on holiday periods "
        f"{sum(d.holiday for d in demos)}"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ends", choices=("judge", "looked", "all"), default="all")
    parser.add_argument(
        "--end", action="append", type=date.fromisoformat, help="only demos ending on this day"
    )
    args = parser.parse_args()
    groups = {
        "looked": ("Last days looked at while designing", LOOKED_AT),
        "judge": ("Last days not looked at (judged)", JUDGED),
    }
    for key, (title, ends) in groups.items():
        if args.ends in (key, "all"):
            days = [date.fromisoformat(end) for end in ends]
            demos = [_demo(day) for day in days if args.end is None or day in args.end]
            if demos:
                print("\n".join(_table(title, demos)), flush=True)


if __name__ == "__main__":
    main()
