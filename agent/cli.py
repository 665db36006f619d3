"""The ``cx-agent`` command line. The only place that catches AgentError and exits."""

from __future__ import annotations

import sys
import traceback
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from agent.config import Config, load_config
from agent.config.durations import cron_trigger, next_runs
from agent.errors import AgentError, ConfigError, ExitCode, Problem
from agent.model import RunResult
from agent.run import (
    Workspace,
    backfill_metric,
    open_warehouse,
    replay_metric,
    run_in,
    write_index,
)
from agent.sources import scheme_of
from agent.sources.demo import generate, write_ground_truth
from agent.sources.duckdb import duckdb_path
from agent.summary import backfill_lines, demo_summary

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Watch customer-experience KPIs, find what moved and why.",
)
ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", envvar="CX_AGENT_CONFIG", help="The metrics.yaml to use.")
]
DEFAULT_CONFIG = Path("metrics.yaml")


def _echo(line: str = "") -> None:
    typer.echo(line)


@app.command()
def validate(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Check metrics.yaml and show each metric with its next three runs."""
    cfg = load_config(config)
    now = datetime.now(ZoneInfo(cfg.timezone))
    _echo(f"{config}: {len(cfg.metrics)} metrics OK (timezone {cfg.timezone})")
    for name, metric in cfg.metrics.items():
        runs = next_runs(cron_trigger(metric.schedule, cfg.timezone), now)
        when = ", ".join(r.strftime("%a %Y-%m-%d %H:%M") for r in runs)
        _echo(f"  {name:<24} {metric.kind:<9} {metric.schedule:<14} next: {when}")


@app.command()
def run(
    config: ConfigOpt = DEFAULT_CONFIG,
    once: Annotated[bool, typer.Option("--once", help="Run each metric once now.")] = True,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Judge the period complete on this date (YYYY-MM-DD); default yesterday.",
        ),
    ] = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", help="Only this metric (repeatable).")
    ] = None,
) -> None:
    """Run the loop once for every metric (or --metric NAME) and write the reports."""
    cfg = load_config(config)
    day = _as_of(as_of, cfg)
    names = _metric_names(cfg, metric, config)
    reports_dir = _reports_dir(cfg, config)
    results = []
    with open_warehouse(cfg, config.parent.resolve()) as source:
        workspace = Workspace(cfg, source, day, day)
        for name in names:
            result, files = run_in(workspace, name, reports_dir)
            results.append(result)
            _echo(_one_line(result) + f"  → {files.html}")
    _echo(f"Index: {write_index(reports_dir, lang=cfg.locale)}")
    raise typer.Exit(_exit_code(results))


@app.command()
def backfill(
    start: Annotated[str, typer.Option(help="First day to replay (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day to replay (YYYY-MM-DD).")],
    config: ConfigOpt = DEFAULT_CONFIG,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", help="Only this metric (repeatable).")
    ] = None,
) -> None:
    """Replay history day by day with the alert policy; print the alerts that would have fired.

    Nothing is written and nothing is sent.
    """
    cfg = load_config(config)
    first, last = _as_of(start, cfg), _as_of(end, cfg)
    if first > last:
        raise typer.BadParameter(f"--start {first} is after --end {last}")
    names = _metric_names(cfg, metric, config)
    with open_warehouse(cfg, config.parent.resolve()) as source:
        results = [backfill_metric(cfg, name, first, last, source) for name in names]
    for line in backfill_lines(results, first, last):
        _echo(line)


@app.command()
def demo(
    config: ConfigOpt = DEFAULT_CONFIG,
    end: Annotated[
        str | None, typer.Option(help="Last day of demo data; default yesterday.")
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="Days to replay the checks for.")] = 60,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 7,
    customers: Annotated[
        int, typer.Option(min=100, help="Customers in the demo warehouse.")
    ] = 50_000,
) -> None:
    """Build the demo warehouse, replay the checks for the last DAYS days, write reports."""
    cfg = load_config(config)
    last = _as_of(end, cfg)
    if scheme_of(cfg.warehouse) != "duckdb":
        raise ConfigError(
            [
                Problem(
                    str(config),
                    None,
                    None,
                    f"warehouse {cfg.warehouse!r} is not a DuckDB file",
                    "the demo writes a DuckDB file: use duckdb:///demo/warehouse.duckdb",
                )
            ]
        )
    warehouse = duckdb_path(cfg.warehouse, config.parent.resolve())
    _echo(f"Generating the demo warehouse {warehouse} ({customers:,} customers) ...")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    incidents = generate(warehouse, end=last, seed=seed, customers=customers)
    truth = warehouse.with_name("incidents.json")
    write_ground_truth(incidents, truth)
    days_list = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
    reports_dir = _reports_dir(cfg, config)
    _echo(f"Replaying every metric for {days_list[0]} .. {last} ...")
    runs: dict[str, list[RunResult]] = {}
    with open_warehouse(cfg, config.parent.resolve()) as source:
        workspace = Workspace(cfg, source, days_list[0], last)
        for name in cfg.metrics:
            runs[name] = replay_metric(workspace, name, reports_dir)
    index = write_index(reports_dir, lang=cfg.locale)
    for line in demo_summary(runs, incidents):
        _echo(line)
    _echo(f"Planted incidents (ground truth): {truth}")
    _echo(f"Reports: {index}")


def _as_of(text: str | None, cfg: Config) -> date:
    if text is None:
        return datetime.now(ZoneInfo(cfg.timezone)).date() - timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; write YYYY-MM-DD") from None


def _metric_names(cfg: Config, wanted: list[str] | None, config: Path) -> list[str]:
    unknown = [m for m in wanted or [] if m not in cfg.metrics]
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)} not in {config}; metrics: {', '.join(cfg.metrics)}"
        )
    return list(wanted or cfg.metrics)


def _reports_dir(cfg: Config, config: Path) -> Path:
    return (config.parent / cfg.reports.dir).resolve()


def _one_line(result: RunResult) -> str:
    severity = result.severity.value if result.severity else "ok"
    value = "no data" if result.value is None else f"{result.value:.4g}"
    found = ", ".join(e.finding.kind.value for e in result.explanations) or "nothing found"
    return f"{result.metric:<24} {result.period:%Y-%m-%d} {severity:<8} {value:<10} {found}"


def _exit_code(results: list[RunResult]) -> int:
    ranks = [r.severity.rank for r in results if r.severity]
    worst = max(ranks, default=0)
    return {0: ExitCode.OK, 1: ExitCode.WARNING, 2: ExitCode.CRITICAL}[worst] if ranks else 0


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Watch customer-experience KPIs, find what moved and why."""


def main() -> None:
    """Entry point: run the app, turning AgentError into one line per problem and an exit code."""
    debug = "--debug" in sys.argv
    try:
        code = app(standalone_mode=False)
    except AgentError as exc:
        _fail(exc.lines(), exc.exit_code, debug)
    except typer.TyperException as exc:  # usage errors: bad option, bad value
        _fail([f"error: {exc.format_message()}"], ExitCode.CONFIG_ERROR, debug)
    except typer.Abort:
        _fail(["aborted"], ExitCode.RUNTIME_ERROR, debug)
    except Exception as exc:  # last resort: one line, never a traceback
        _fail(
            [f"internal error: {exc!r} (run with --debug for details)"],
            ExitCode.RUNTIME_ERROR,
            debug,
        )
    sys.exit(code if isinstance(code, int) else 0)


def _fail(lines: list[str], code: int, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    for line in lines:
        typer.echo(line, err=True)
    sys.exit(int(code))
