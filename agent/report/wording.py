"""Notes from the other stages (a message code and its values) worded in the reader's language.

Detectors and the job say *what* to tell (``Note("reason_limit_below", {"value": 0.33,
"limit": 0.35})``); the sentence comes from the catalog of the report's locale and each
value is formatted by what its name says it is:

* metric levels (``value``, ``expected``, ``limit``…) in the metric's unit: "33.0%";
* ratios (``moved``, ``ratio``, ``max``) as percentages: "18.3%";
* counts (``volume``, ``periods``…) with thousands separators;
* dates as periods of the metric's grain, ``newest`` (an event time) with its time;
* words (``against``, ``severity``, ``model``) from the catalog where it has them;
* nested notes (``reason`` of a pending alert) worded the same way.

A code the catalog does not know (a newer stage) shows as the code and its values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent.model import Note
from agent.report.formatting import (
    Unit,
    format_date,
    format_number,
    format_percent,
    format_period,
    format_value,
)
from agent.report.messages import MESSAGES, fill

__all__ = ["Wording"]

_LEVELS = frozenset({"value", "expected", "lower", "upper", "limit", "target", "before", "after"})
_RATIOS = frozenset({"moved", "ratio", "max"})
_COUNTS = frozenset({"volume", "usual", "periods", "need", "count"})


@dataclass(frozen=True)
class Wording:
    """Words notes for one metric (its unit and grain) in one locale."""

    locale: str
    unit: Unit
    grain: str

    def __call__(self, note: Note | None) -> str:
        if note is None:
            return ""
        msg = MESSAGES[self.locale]
        pattern = msg.get(note.code)
        values = {key: self._value(key, value, note) for key, value in note.params.items()}
        if pattern is None:
            return " ".join([note.code, *(f"{k}={v}" for k, v in values.items())])
        return fill(pattern, **values)

    def _value(self, key: str, value: object, note: Note) -> str:
        if isinstance(value, Note):
            return self(value)
        if isinstance(value, datetime):
            return self._date(key, value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            word = MESSAGES[self.locale].get(f"{key}_{value}")
            return word if word is not None else str(value)
        return self._number(key, float(value), note)

    def _date(self, key: str, value: datetime) -> str:
        if key in ("newest", "until"):
            return f"{format_date(value, self.locale, year=True)} {value:%H:%M}"
        return format_period(value, self.grain, self.locale)

    def _number(self, key: str, value: float, note: Note) -> str:
        if key in _LEVELS:
            return format_value(value, self.unit, self.locale)
        if key in _RATIOS:
            limit = note.params.get("max")
            unlike = format_percent(limit) if key != "max" and isinstance(limit, float) else ""
            return format_percent(value, unlike)
        if key in _COUNTS:
            return format_number(value)
        return f"{value:.1f}"
