"""The ``cx-agent`` command line. The only place that catches AgentError and exits."""

from __future__ import annotations

import json
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from agent.cli.summary import backfill_json, backfill_lines, demo_summary
from agent.config import Config, load_config
from agent.config.durations import cron_trigger, next_runs, parse_duration
from agent.config.loader import problems_at
from agent.errors import AgentError, ConfigError, ExitCode, SourceError
from agent.feedback import UnknownEpisode, record_label
from agent.model import RunResult
from agent.notify import (
    active_silences,
    add_silence,
    build_notifier,
    lift_silence,
    sample_notice,
)
from agent.periods import evaluated_period
from agent.pipeline import (
    Backfill,
    Failed,
    Workspace,
    backfill_metric,
    data_start,
    failure_lines,
    open_state_store,
    open_warehouse,
    replay_metric,
    run_each,
    run_in,
    write_index,
)
from agent.sources import Source, scheme_of
from agent.sources.check import check_warehouse
from agent.sources.demo import generate, write_ground_truth
from agent.sources.duckdb import duckdb_path
from agent.store import Store
from agent.store.cubes import forget_cubes
from agent.store.queries import episode_history, metric_status
from agent.store.runs import record_failure, record_success, utcnow
from agent.store.views import history_lines, status_lines

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
def validate(
    config: ConfigOpt = DEFAULT_CONFIG,
    connect: Annotated[
        bool,
        typer.Option(
            "--connect", help="Also ping the warehouse and look up every table and column."
        ),
    ] = False,
) -> None:
    """Check metrics.yaml and show each metric with its next three runs."""
    cfg = load_config(config)
    with open_warehouse(cfg, config) as source:  # its URL, settings, driver: not connected
        now = datetime.now(ZoneInfo(cfg.timezone))
        _echo(f"{config}: {len(cfg.metrics)} metrics OK (timezone {cfg.timezone})")
        for name, metric in cfg.metrics.items():
            runs = next_runs(cron_trigger(metric.schedule, cfg.timezone), now)
            when = ", ".join(r.strftime("%a %Y-%m-%d %H:%M") for r in runs)
            _echo(f"  {name:<24} {metric.kind:<9} {metric.schedule:<14} next: {when}")
        if connect:
            _check_warehouse(cfg, config, source)
        else:
            _echo(
                f"warehouse ({scheme_of(cfg.warehouse)}): not contacted; "
                "`cx-agent validate --connect` checks it answers and has every table and column"
            )


def _check_warehouse(cfg: Config, config: Path, source: Source) -> None:
    """Ping the warehouse; every table and column metrics.yaml names must be there."""
    day = datetime.now(ZoneInfo(cfg.timezone)).date()
    queries = [cfg.cube_query(name, day, day) for name in cfg.metrics]
    source.ping()
    gaps = check_warehouse(source, queries, getattr(cfg.events, "table", None))
    if gaps:
        raise ConfigError(problems_at(config, gaps))
    _echo(f"warehouse ({scheme_of(cfg.warehouse)}): reachable; every table and column found")


@app.command()
def run(
    config: ConfigOpt = DEFAULT_CONFIG,
    once: Annotated[
        bool, typer.Option("--once", help="Run each metric once now (required).")
    ] = False,
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
    if not once:
        raise typer.BadParameter(
            "add --once to run every metric once now; `cx-agent serve` runs them on their "
            "schedules",
            param_hint="run",
        )
    cfg = load_config(config)
    day = _as_of(as_of, cfg, latest=True)
    names = _metric_names(cfg, metric, config)
    reports_dir = _reports_dir(cfg, config)
    results, failures = [], []
    with open_warehouse(cfg, config) as source:
        if as_of is not None:
            _refuse_before_data(cfg, names, source, day)
        store = open_state_store(cfg, config)
        workspace = Workspace(cfg, source, day, day, store)
        attempt = lambda name: run_in(workspace, name, reports_dir)  # noqa: E731
        for done in run_each(names, attempt, source, _recorder(store, "run --once")):
            if isinstance(done, Failed):
                failures.append(done)
                _echo(
                    f"{done.metric:<24} {evaluated_period(day, cfg.metrics[done.metric].grain)} "
                    "failed (see below)"
                )
            else:
                results.append(done[0])
                grain = cfg.metrics[done[0].metric].grain
                _echo(_one_line(done[0], grain) + f"  → {done[1].html}")
    _echo(f"Index: {write_index(reports_dir, lang=cfg.locale)}")
    _say_failures(failures, len(names))
    raise typer.Exit(ExitCode.RUNTIME_ERROR if failures else _exit_code(results))


@app.command()
def backfill(
    start: Annotated[str, typer.Option(help="First day to replay (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day to replay (YYYY-MM-DD).")],
    config: ConfigOpt = DEFAULT_CONFIG,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", help="Only this metric (repeatable).")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print every alert with its finding and top causes as JSON."),
    ] = False,
) -> None:
    """Replay history day by day with the alert policy; print the alerts that would have fired.

    No report is written and nothing is sent; whether each metric ran is kept for `status`.
    """
    cfg = load_config(config)
    first, last = _as_of(start, cfg), _as_of(end, cfg, latest=True, option="--end")
    if first > last:
        raise typer.BadParameter(f"--start {first} is after --end {last}")
    names = _metric_names(cfg, metric, config)
    store = open_state_store(cfg, config)
    with open_warehouse(cfg, config) as source:
        attempt = lambda name: backfill_metric(cfg, name, first, last, source)  # noqa: E731
        done = list(run_each(names, attempt, source, _recorder(store, "backfill")))
    results = [d for d in done if isinstance(d, Backfill)]
    for result in results:
        record_success(store, result.metric, utcnow())
    if as_json:
        _echo(json.dumps(backfill_json(results, first, last), ensure_ascii=False, indent=2))
    elif results:
        for line in backfill_lines(results, first, last):
            _echo(line)
    failures = [d for d in done if isinstance(d, Failed)]
    _say_failures(failures, len(names))
    if failures:
        raise typer.Exit(ExitCode.RUNTIME_ERROR)


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
        raise ConfigError.setting(
            f"warehouse {cfg.warehouse!r} is not a DuckDB file",
            "the demo writes a DuckDB file: use duckdb:///demo/warehouse.duckdb",
            file=str(config),
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
    store = open_state_store(cfg, config)
    forget_cubes(store)  # the warehouse was just rebuilt
    with open_warehouse(cfg, config) as source:
        workspace = Workspace(cfg, source, days_list[0], last, store)
        for name in cfg.metrics:
            runs[name] = replay_metric(workspace, name, reports_dir)
    index = write_index(reports_dir, lang=cfg.locale)
    for line in demo_summary(runs, incidents):
        _echo(line)
    _echo(f"Planted incidents (ground truth): {truth}")
    _echo(f"Reports: {index}")


@app.command("explain")
def explain_command(
    metric: Annotated[str, typer.Argument(help="The metric to explain.")],
    segment: Annotated[
        list[str] | None,
        typer.Option(help="Only this segment, as dimension=value (repeatable)."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The period complete on this date.")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day of a range.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day of the range.")] = None,
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """Write the full report of METRIC for any segment and dates (value against its band,
    causes inside the segment, related metrics, events, what customers said) and print
    its path. Nothing is sent or recorded."""
    from agent.pipeline.explain import explain

    cfg = load_config(config)
    name = _metric_names(cfg, [metric], config)[0]
    if (as_of is None) == (start is None and end is None) or (start is None) != (end is None):
        raise typer.BadParameter("give --as-of DATE, or --from DATE and --to DATE")
    first = _as_of(start, cfg) if start else None
    last = _as_of(as_of or end, cfg)
    if first is not None and first > last:
        raise typer.BadParameter(f"--from {first} is after --to {last}")
    seg = _segment(segment or [], cfg.metrics[name].dimensions)
    with open_warehouse(cfg, config) as source:
        workspace = Workspace(cfg, source, first or last, last)
        files = explain(workspace, name, seg, first, _reports_dir(cfg, config))
    _echo(str(files.html))


@app.command()
def feedback(
    episode: Annotated[
        str, typer.Argument(help="The alert's episode id (metric#n: see `cx-agent history`).")
    ],
    label: Annotated[
        str, typer.Option(help="true (a real problem), false (a false alarm) or expected.")
    ],
    note: Annotated[str | None, typer.Option(help="Why, in a few words.")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="expected: first day of the planned move.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="expected: its last day.")] = None,
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """Record the team's verdict on an alert.

    Alerts marked false make the metric less sensitive (within its `tuning:` limits);
    `expected` keeps the same move from alerting from --from to --to.
    """
    cfg = load_config(config)
    if (start or end) and label != "expected":
        raise typer.BadParameter("--from/--to go with --label expected")
    window = (_as_of(start or end, cfg), _as_of(end or start, cfg)) if start or end else None
    store = open_state_store(cfg, config)
    try:
        metric = record_label(store, episode, label, note=note, window=window)
    except UnknownEpisode:
        raise typer.BadParameter(f"no alert {episode!r} in the store {cfg.store}") from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    finally:
        store.close()
    _echo(f"{metric}: {episode} marked {label}")


@app.command()
def serve(
    config: ConfigOpt = DEFAULT_CONFIG,
    every: Annotated[
        float | None,
        typer.Option(
            "--every",
            min=1,
            hidden=True,
            help="For testing only: run every metric every SECONDS instead of on its schedule.",
        ),
    ] = None,
) -> None:
    """Run every metric on its schedule until stopped (SIGTERM or Ctrl-C finish the running
    runs first; SIGHUP or an edit of metrics.yaml reloads the schedule). Logs one JSON line
    per run to stderr."""
    from agent.schedule import serve as serve_forever

    serve_forever(config, every)


@app.command()
def status(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Per metric: last run and result, next run, open episodes, alert deliveries.

    Exits 1 when something is stuck (a metric failing run after run, an alert delivery
    failed or past its expiry), so a monitoring probe can call it."""
    cfg = load_config(config)
    rows = metric_status(open_state_store(cfg, config), list(cfg.metrics), utcnow())
    for line in status_lines(rows, cfg.timezone):
        _echo(line)
    if any(row.stuck for row in rows):
        raise typer.Exit(ExitCode.WARNING)


@app.command()
def history(
    metric: Annotated[str, typer.Argument(help="The metric whose episodes to list.")],
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """List the recorded episodes of METRIC, the latest first."""
    cfg = load_config(config)
    name = _metric_names(cfg, [metric], config)[0]
    for line in history_lines(name, episode_history(open_state_store(cfg, config), name)):
        _echo(line)


@app.command()
def silence(
    metric: Annotated[str, typer.Argument(help="The metric to silence.")],
    duration: Annotated[str, typer.Option("--for", help="How long: 24h, 3d, 2w…")],
    reason: Annotated[str, typer.Option(help="Why; shown by `cx-agent silences`.")],
    segment: Annotated[
        list[str] | None,
        typer.Option(help="Only this segment, as dimension=value (repeatable)."),
    ] = None,
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """Send no alert about METRIC (or one of its segments) for a while; runs and reports go on."""
    cfg = load_config(config)
    name = _metric_names(cfg, [metric], config)[0]
    try:
        length = parse_duration(duration)
    except ValueError as exc:
        raise typer.BadParameter(f"--for {exc}") from None
    seg = _segment(segment or [], cfg.metrics[name].dimensions)
    now = datetime.now(UTC)
    sid = add_silence(
        open_state_store(cfg, config), name, seg, until=now + length, reason=reason, now=now
    )
    ends = (now + length).astimezone(ZoneInfo(cfg.timezone))
    _echo(f"silence {sid}: {_silenced(name, seg)} until {ends:%Y-%m-%d %H:%M %Z} — {reason}")


@app.command("silences")
def list_silences(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """List the silences in force."""
    cfg = load_config(config)
    found = active_silences(open_state_store(cfg, config), datetime.now(UTC))
    if not found:
        _echo("no silences in force")
    zone = ZoneInfo(cfg.timezone)
    for s in found:
        ends = s.ends_at.replace(tzinfo=UTC).astimezone(zone)
        what = _silenced(s.metric, s.segment)
        _echo(f"{s.id:>4}  {what:<40} until {ends:%Y-%m-%d %H:%M}  {s.reason}")


@app.command()
def unsilence(
    silence_id: Annotated[int, typer.Argument(help="The id `cx-agent silences` shows.")],
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """Lift a silence now: alerts about its metric are sent again from the next run."""
    cfg = load_config(config)
    if not lift_silence(open_state_store(cfg, config), silence_id, now=datetime.now(UTC)):
        raise typer.BadParameter(f"no silence {silence_id} in force (see `cx-agent silences`)")
    _echo(f"silence {silence_id} lifted")


@app.command("notify-test")
def notify_test(
    channel: Annotated[str, typer.Option(help="A channel name from `channels:`.")],
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """Send a sample alert to CHANNEL now, to check its settings and secrets."""
    cfg = load_config(config)
    if channel not in cfg.channels:
        known = ", ".join(cfg.channels) or "none defined"
        raise typer.BadParameter(f"no channel {channel!r} in {config}; channels: {known}")
    notifier = build_notifier(channel, cfg.channels[channel], base_dir=_reports_dir(cfg, config))
    ref = notifier.send(sample_notice(channel, datetime.now(UTC)))
    _echo(f"{channel}: test alert sent ({ref.external_id})")


def _segment(pairs: list[str], dimensions: list[str]) -> dict[str, str]:
    segment = {}
    for pair in pairs:
        dim, sep, value = pair.partition("=")
        if not sep or dim not in dimensions:
            raise typer.BadParameter(
                f"--segment {pair!r}: write dimension=value with one of {', '.join(dimensions)}"
            )
        segment[dim] = value
    return segment


def _silenced(metric: str, segment: dict[str, str]) -> str:
    return metric + "".join(f" {k}={v}" for k, v in segment.items())


def _as_of(text: str | None, cfg: Config, *, latest: bool = False, option: str = "--as-of") -> date:
    """The day ``text`` names (default: yesterday); ``latest``: the last day judged, which
    cannot be later than today (its data cannot be in yet)."""
    today = datetime.now(ZoneInfo(cfg.timezone)).date()
    if text is None:
        return today - timedelta(days=1)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; write YYYY-MM-DD") from None
    if latest and day > today:
        raise typer.BadParameter(
            f"{option} {day} is later than today ({today} in {cfg.timezone}): "
            "its data is not in yet; give a day up to today"
        )
    return day


def _refuse_before_data(cfg: Config, names: list[str], source: Source, day: date) -> None:
    """``--as-of`` before the warehouse's first row would judge periods with no data."""
    start = data_start(cfg, names, source)
    if start is not None and day < start[1].date():
        raise typer.BadParameter(
            f"--as-of {day} is before the warehouse's first row ({start[1]:%Y-%m-%d}, "
            f"source {start[0]!r}): there is nothing to judge; give a day from then on"
        )


def _recorder(store: Store, command: str) -> Callable[[Failed], None]:
    """Records a failed metric for ``cx-agent status``."""

    def record(failed: Failed) -> None:
        record_failure(store, failed.metric, failed.reason, utcnow(), by=command)

    return record


def _say_failures(failures: list[Failed], total: int) -> None:
    for line in failure_lines(failures, total, debug=_DEBUG.is_set()):
        typer.echo(line, err=True)


def _metric_names(cfg: Config, wanted: list[str] | None, config: Path) -> list[str]:
    unknown = [m for m in wanted or [] if m not in cfg.metrics]
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)} not in {config}; metrics: {', '.join(cfg.metrics)}"
        )
    return list(wanted or cfg.metrics)


def _reports_dir(cfg: Config, config: Path) -> Path:
    return (config.parent / cfg.reports.dir).resolve()


def _one_line(result: RunResult, grain: str) -> str:
    severity = result.severity.value if result.severity else "ok"
    value = "no data" if result.value is None else f"{result.value:.4g}"
    found = ", ".join(e.finding.kind.value for e in result.explanations) or "nothing found"
    when = f"{result.period:%Y-%m-%d %H:%M}" if grain == "hour" else f"{result.period:%Y-%m-%d}"
    return f"{result.metric:<24} {when} {severity:<8} {value:<10} {found}"


def _exit_code(results: list[RunResult]) -> int:
    ranks = [r.severity.rank for r in results if r.severity]
    worst = max(ranks, default=0)
    return {0: ExitCode.OK, 1: ExitCode.WARNING, 2: ExitCode.CRITICAL}[worst] if ranks else 0


_DEBUG = threading.Event()
"""``--debug`` was given: tracebacks, and the SQL of a query the warehouse refused."""


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks, and the SQL of failed queries.")
    ] = False,
) -> None:
    """Watch customer-experience KPIs, find what moved and why."""
    if debug:
        _DEBUG.set()


def main() -> None:
    """Entry point: run the app, turning AgentError into one line per problem and an exit code."""
    try:
        code = app(standalone_mode=False)
    except AgentError as exc:
        debug = _DEBUG.is_set()
        more = exc.debug_lines() if debug and isinstance(exc, SourceError) else []
        _fail(exc.lines() + more, exc.exit_code, debug)
    except typer.TyperException as exc:  # usage errors: bad option, bad value
        _fail([f"error: {exc.format_message()}"], ExitCode.CONFIG_ERROR, _DEBUG.is_set())
    except typer.Abort:
        _fail(["aborted"], ExitCode.RUNTIME_ERROR, _DEBUG.is_set())
    except Exception as exc:  # last resort: one line, never a traceback
        _fail(
            [f"internal error: {exc!r} (run with --debug for details)"],
            ExitCode.RUNTIME_ERROR,
            _DEBUG.is_set(),
        )
    sys.exit(code if isinstance(code, int) else 0)


def _fail(lines: list[str], code: int, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    for line in lines:
        typer.echo(line, err=True)
    sys.exit(int(code))
