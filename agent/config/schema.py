"""The metrics.yaml schema: pydantic models validated whole before anything runs.

Detector options come from the detect stage's registry, so a new detector needs no
change here and an unknown one is an error that lists the valid names.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    create_model,
    field_validator,
)

from agent.attribute.context import EventSpec, EventTable
from agent.config.durations import is_valid_cron, parse_duration
from agent.detect import DETECTORS
from agent.detect.episodes import AlertPolicy
from agent.sources.base import CubeQuery, Grain, Kind, TableRef

__all__ = [
    "ENTITY_KINDS",
    "KIND_FIELDS",
    "OPTIONAL_KIND_FIELDS",
    "Config",
    "DetectSpec",
    "MetricSpec",
    "ReportsSpec",
    "UNION_TAGS",
    "SourceSpec",
    "Unit",
    "kind_field_names",
]

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Unit = Literal["percent", "number", "currency", "score"]
_STRICT = ConfigDict(extra="forbid", frozen=True)

DetectSpec: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "DetectSpec",
    __config__=_STRICT,
    **{kind: (cls.spec_type | None, None) for kind, cls in DETECTORS.items()},
)
"""`detect:` of a metric: one optional block per registered detector kind."""


UNION_TAGS = ("events-list", "events-table")
"""Tags of the tagged unions below; the loader drops them from error paths."""
Events = Annotated[
    Annotated[list[EventSpec], Tag("events-list")] | Annotated[EventTable, Tag("events-table")],
    Discriminator(lambda v: "events-table" if isinstance(v, dict | EventTable) else "events-list"),
]
"""`events:` is a list of events or ``{table: …}``, a warehouse table of them."""


class SourceSpec(BaseModel):
    """A table (or view) of the warehouse that metrics are computed from."""

    model_config = _STRICT

    table: str
    time: str
    entity: str | None = None
    filter: str | None = None


class ReportsSpec(BaseModel):
    model_config = _STRICT

    dir: str = "reports"
    base_url: str | None = None


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
    detect: DetectSpec = Field(default_factory=DetectSpec)  # type: ignore[valid-type]
    alert: AlertPolicy = Field(default_factory=AlertPolicy)
    watch_segments: bool = False
    schedule: str = "0 9 * * *"
    history: Duration = timedelta(days=120)
    top_n: int = Field(20, ge=1, le=1000)
    playbook: str | None = None

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
    sources: dict[str, SourceSpec]
    metrics: dict[str, MetricSpec]
    events: Events = Field(default_factory=list)  # type: ignore[assignment]

    def table_ref(self, metric: str) -> TableRef:
        """The source table ``metric`` reads, as the warehouse layer wants it."""
        name = self.metrics[metric].source
        src = self.sources[name]
        return TableRef(
            name=name, table=src.table, time=src.time, entity=src.entity, filter=src.filter
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


def kind_field_names() -> set[str]:
    return {f for fields in KIND_FIELDS.values() for f in fields}
