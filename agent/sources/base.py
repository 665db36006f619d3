"""The Source extension point: a warehouse that turns a CubeQuery into a cube."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

import pandas as pd

from agent.periods import Grain

if TYPE_CHECKING:
    from agent.sources.customers import CustomerQuery
    from agent.sources.texts import TextQuery, Texts

__all__ = ["CubeQuery", "Grain", "Kind", "Source", "TableRef"]

Kind = Literal["count", "sum", "ratio", "returning", "retention", "churn", "mix", "sql"]


@dataclass(frozen=True)
class TableRef:
    """Where a metric's rows live: a table (or view), its time column, the customer key."""

    name: str
    table: str
    time: str
    entity: str | None = None
    filter: str | None = None
    text: str | None = field(default=None, repr=False, compare=False)
    """A free-text column (survey comments, ticket subjects) the voice of the customer reads.
    Out of the repr, so the fingerprint of stored cubes (which never read it) is unchanged."""
    loaded_query: str | None = None
    """A SELECT returning one timestamp, named ``time``, read instead of ``table``: how
    far the data is loaded (``freshness.query``)."""


@dataclass(frozen=True)
class CubeQuery:
    """Everything a source needs to compute one metric's cube in the warehouse.

    Periods returned run from the bucket containing ``start`` to the bucket containing
    ``end`` (inclusive). Cohort kinds read the extra history they need (``lookback``,
    ``window``) before ``start`` themselves.
    """

    metric: str
    kind: Kind
    source: TableRef
    grain: Grain
    dimensions: tuple[str, ...]
    start: date
    end: date
    expr: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    lookback: timedelta | None = None
    window: timedelta | None = None
    category: str | None = None
    sql: str | None = None
    top_n: int = 20


class Source(AbstractContextManager["Source", None], Protocol):
    """A warehouse connection. Only aggregates cross it: never raw events. Used as a
    context manager, it is closed when the block ends."""

    dialect: ClassVar[str]

    def fetch_cube(self, query: CubeQuery) -> pd.DataFrame:
        """``period`` (naive timestamp, start of bucket), one column per dimension
        (strings, NULL as ``"(none)"``), ``num``, ``den`` (float)."""
        ...

    def data_bounds(
        self, source: TableRef, since: datetime | None = None
    ) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """Earliest and latest value of the source's time column (after its filter), over
        the rows from ``since`` on when given: a warehouse that prunes by time then reads
        only those."""
        ...

    def fetch_customers(self, query: CustomerQuery) -> pd.DataFrame:
        """The customers behind one cause: entity key, last activity, declared columns."""
        ...

    def fetch_texts(self, query: TextQuery) -> Texts:
        """A segment's comments before and after an onset: the text column only, capped."""
        ...

    def fetch_events(self, table: str) -> pd.DataFrame:
        """The rows of a small table of known events (at most 10,000)."""
        ...

    def ping(self) -> None: ...

    def close(self) -> None: ...
