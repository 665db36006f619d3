"""The metrics.yaml schema: pydantic models validated whole before anything runs.

Detector options come from the detect stage's registry, so a new detector needs no
change here and an unknown one is an error that lists the valid names.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    create_model,
    field_validator,
    model_validator,
)

from agent.attribute.context import EventSpec, EventTable
from agent.config.channels import CHANNEL_TAGS, Channel, RenotifySpec
from agent.config.durations import is_valid_cron, parse_duration
from agent.detect import DETECTORS
from agent.detect.episodes import AlertPolicy
from agent.feedback import FeedbackSpec, TuningSpec
from agent.model import Unit
from agent.report.playbook import PLAYBOOK_TAGS, Playbook
from agent.sources.base import CubeQuery, Grain, Kind, TableRef
from agent.sources.customers import EXPORT_KINDS, LAST_ACTIVITY, CustomerQuery
from agent.sources.texts import TextQuery
from agent.voice import VoiceSpec

__all__ = [
    "DAY_KINDS",
    "ENTITY_KINDS",
    "KIND_FIELDS",
    "OPTIONAL_KIND_FIELDS",
    "Config",
    "DetectSpec",
    "FreshnessSpec",
    "MetricSpec",
    "ReportsSpec",
    "UNION_TAGS",
    "SourceSpec",
    "Unit",
    "kind_field_names",
]

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Column = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _metric_name(name: str) -> str:
    """A metric's name is an identifier: it names files, store rows and CLI arguments."""
    if not _IDENTIFIER.fullmatch(name):
        shown = name if len(name) <= 40 else name[:37] + "…"
        raise ValueError(
            f"metric name {shown!r} is not an identifier — use up to 64 letters, digits and _,"
            " starting with a letter (e.g. revisit_rate)"
        )
    return name


MetricName = Annotated[str, AfterValidator(_metric_name)]
_STRICT = ConfigDict(extra="forbid", frozen=True)

# call-overload: create_model's stubs cannot match fields given as a ** dict
DetectSpec: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "DetectSpec",
    __config__=_STRICT,
    **{kind: (cls.spec_type | None, None) for kind, cls in DETECTORS.items()},
)
"""`detect:` of a metric: one optional block per registered detector kind."""


UNION_TAGS = ("events-list", "events-table", *PLAYBOOK_TAGS, *CHANNEL_TAGS)
"""Tags of the tagged unions below; the loader drops them from error paths."""
Events = Annotated[
    Annotated[list[EventSpec], Tag("events-list")] | Annotated[EventTable, Tag("events-table")],
    Discriminator(lambda v: "events-table" if isinstance(v, dict | EventTable) else "events-list"),
]
"""`events:` is a list of events or ``{table: …}``, a warehouse table of them."""


class FreshnessSpec(BaseModel):
    """`freshness:` of a source: how long a scheduled run waits for a period's last rows."""

    model_config = _STRICT

    wait: Duration = timedelta(hours=2)
    """Keep retrying this long after the run's start before recording "data late"."""
    retry: Duration = timedelta(minutes=15)
    """Time between two looks at the source while waiting."""
    query: str | None = None
    """SQL returning one timestamp: how far the data is loaded (default: the newest
    value of the source's time column), e.g. ``SELECT max(loaded_at) FROM etl_runs``."""


class SourceSpec(BaseModel):
    """A table (or view) of the warehouse that metrics are computed from."""

    model_config = _STRICT

    table: str
    time: str
    entity: str | None = None
    filter: str | None = None
    freshness: FreshnessSpec = Field(default_factory=FreshnessSpec)
    text: Column | None = None
    """A free-text column (survey comments, ticket subjects): metrics on this source, or
    naming it in ``voice:``, report what their top causes' customers said."""


class ReportsSpec(BaseModel):
    model_config = _STRICT

    dir: str = "reports"
    base_url: str | None = None
    attach_rows: int = Field(500, ge=0)
    """Customer lists up to this many rows are attached to the email; longer ones linked."""


class MetricSpec(BaseModel):
    """One KPI: how to compute it (kind + its fields), slice it, judge it and when."""

    model_config = _STRICT

    title: str
    description: str | None = None
    source: str
    kind: Kind
    expr: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    lookback: Duration | None = None
    window: Duration | None = None
    category: str | None = None
    sql: str | None = None
    grain: Grain = "day"
    good: Literal["up", "down"] = "up"
    alert_on: Literal["bad", "both"] = "bad"
    unit: Unit | None = None
    dimensions: list[str] = Field(default_factory=list)
    detect: DetectSpec = Field(default_factory=DetectSpec)
    alert: AlertPolicy = Field(default_factory=AlertPolicy)
    watch_segments: bool = False
    schedule: str = "0 9 * * *"
    history: Duration = timedelta(days=120)
    mutable: Duration = timedelta(days=3)
    """How long after its end a period's rows may still change; older periods are read
    once and then reused from the store (incremental runs)."""
    top_n: int = Field(20, ge=1, le=1000)
    playbook: Playbook | None = None
    notify: list[str] = Field(default_factory=list)
    """Channels (names under `channels:`) told about this metric's alerts."""
    owners: list[str] = Field(default_factory=list)
    """Who an alert mentions: Slack ids (U…, W…, user groups S…) or names."""
    renotify: RenotifySpec = Field(default_factory=RenotifySpec)
    factors: list[str] = Field(default_factory=list)
    """Metrics whose product this metric is; reports say which factor moved."""
    export_customers: bool = False
    customer_columns: list[Column] = Field(default_factory=list)
    """The only source columns written to customer lists (besides the customer key)."""
    tuning: TuningSpec = Field(default_factory=TuningSpec)
    voice: VoiceSpec = Field(default_factory=VoiceSpec)

    @model_validator(mode="after")
    def _exportable(self) -> MetricSpec:
        if self.export_customers and self.kind not in EXPORT_KINDS:
            raise ValueError(
                f"export_customers lists customers for kinds {', '.join(EXPORT_KINDS)}, "
                f"not {self.kind} — remove it from this metric"
            )
        if LAST_ACTIVITY in self.customer_columns:
            raise ValueError(f"customer_columns: {LAST_ACTIVITY} is always written — remove it")
        return self

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        reason = is_valid_cron(value)
        if reason:
            raise ValueError(reason)
        return value

    @property
    def display_unit(self) -> Unit:
        if self.unit:
            return self.unit
        return "percent" if self.kind in ("returning", "retention", "churn", "mix") else "number"

    @property
    def additive(self) -> bool:
        return self.kind in ("count", "sum")


class Config(BaseModel):
    """The whole metrics.yaml."""

    model_config = _STRICT

    version: Literal[1]
    timezone: str = "UTC"
    locale: Literal["en", "ko"] = "en"
    country: str = "KR"
    warehouse: str
    reports: ReportsSpec = Field(default_factory=ReportsSpec)
    store: str = "sqlite:///state/cx-agent.db"
    """The state store (SQLAlchemy URL); relative SQLite paths are next to metrics.yaml."""
    channels: dict[str, Channel] = Field(default_factory=dict)
    sources: dict[str, SourceSpec]
    metrics: dict[MetricName, MetricSpec]
    events: Events = Field(default_factory=list)
    feedback: FeedbackSpec = Field(default_factory=FeedbackSpec)
    mask: list[str] = Field(default_factory=list)
    """Regular expressions masked in customers' comments, besides the built-in rules."""

    @field_validator("metrics")
    @classmethod
    def _factors_exist(cls, metrics: dict[str, MetricSpec]) -> dict[str, MetricSpec]:
        for name, spec in metrics.items():
            for factor in spec.factors:
                other = metrics.get(factor)
                if other is None or factor == name:
                    known = ", ".join(m for m in metrics if m != name)
                    raise ValueError(f"{name}.factors: {factor!r} is not another metric ({known})")
                if other.grain != spec.grain:
                    raise ValueError(
                        f"{name}.factors: {factor} is per {other.grain}, {name} per {spec.grain}"
                        " — factors must share the metric's grain"
                    )
        return metrics

    def table_ref(self, metric: str) -> TableRef:
        """The source table ``metric`` reads, as the warehouse layer wants it."""
        return self._source_ref(self.metrics[metric].source)

    def _source_ref(self, name: str) -> TableRef:
        src = self.sources[name]
        return TableRef(
            name=name,
            table=src.table,
            time=src.time,
            entity=src.entity,
            filter=src.filter,
            text=src.text,
        )

    def cube_query(self, metric: str, start: date, end: date) -> CubeQuery:
        """The one warehouse query of ``metric`` for the periods from ``start`` to ``end``."""
        spec = self.metrics[metric]
        return CubeQuery(
            metric=metric,
            kind=spec.kind,
            source=self.table_ref(metric),
            grain=spec.grain,
            dimensions=tuple(spec.dimensions),
            start=start,
            end=end,
            expr=spec.expr,
            numerator=spec.numerator,
            denominator=spec.denominator,
            lookback=spec.lookback,
            window=spec.window,
            category=spec.category,
            sql=spec.sql,
            top_n=spec.top_n,
        )

    def customer_query(self, metric: str, period: date, segment: dict[str, str]) -> CustomerQuery:
        """The query listing the customers of ``segment`` behind ``metric`` at ``period``."""
        spec = self.metrics[metric]
        ref = self.table_ref(metric)
        return CustomerQuery(
            metric=metric,
            kind=spec.kind,
            source=ref,
            grain=spec.grain,
            period=period,
            segment=dict(segment),
            columns=tuple(c for c in spec.customer_columns if c != ref.entity),
            window=spec.window,
            lookback=spec.lookback,
        )

    def text_query(
        self,
        metric: str,
        segment: dict[str, str],
        before: tuple[datetime, datetime],
        after: tuple[datetime, datetime],
    ) -> TextQuery | None:
        """The comments of ``segment`` for ``metric``'s voice (None: it has none)."""
        voice = self.metrics[metric].voice
        name = voice.source or self.metrics[metric].source
        text = self.sources[name].text
        if not voice.enabled or text is None:
            return None
        ref = self._source_ref(name)
        return TextQuery(metric, ref, text, dict(segment), before, after, voice.sample)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name like Asia/Seoul"
            ) from None
        return value


# Which kind uses which of the kind-specific fields; the loader checks them together.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "count": (),
    "sum": ("expr",),
    "ratio": ("numerator", "denominator"),
    "returning": ("lookback",),
    "retention": ("window",),
    "churn": ("window",),
    "mix": ("category",),
    "sql": ("sql",),
}
OPTIONAL_KIND_FIELDS: dict[str, tuple[str, ...]] = {"count": ("expr",)}
ENTITY_KINDS = ("returning", "retention", "churn", "mix")
DAY_KINDS = ("returning", "retention", "churn")
"""Kinds whose windows are whole days: a grain of a day or longer."""


def kind_field_names() -> set[str]:
    return {f for fields in KIND_FIELDS.values() for f in fields}
