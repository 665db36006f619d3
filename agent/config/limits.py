"""Bounds on every number in metrics.yaml, checked before the schema sees the values.

The schema bounds what it knows (``top_n`` up to 1000, ports up to 65535); these bounds
hold for every number, so none can reach a computation as NaN, infinity or a value
that overflows a date, a timer or an array size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from agent.config.reader import Path_

__all__ = ["MAX_NUMBER", "not_finite", "out_of_range"]

MAX_NUMBER = 1e15
"""Largest magnitude of any number in metrics.yaml (a threshold in won fits easily)."""


def out_of_range(data: Any, at: Path_) -> Iterator[tuple[Path_, str, str | None]]:
    """(key path, message, hint) for every number that is not finite or too large."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from out_of_range(value, (*at, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from out_of_range(value, (*at, i))
    elif isinstance(data, float) and not math.isfinite(data):
        yield at, f"{data} is not a number a limit can be", "write a finite number, e.g. 0.35"
    elif isinstance(data, int | float) and not isinstance(data, bool) and abs(data) > MAX_NUMBER:
        yield at, f"the number is too large (at most {MAX_NUMBER:.0e})", "write a smaller number"


def not_finite(value: Any, at: Path_) -> Iterator[tuple[Path_, str, str | None]]:
    """(key path, message, hint) for every float of the validated config that is NaN or
    infinite: written as text (``below: "nan"``, ``max: "inf%"``), the schema read it so."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from not_finite(getattr(value, name), (*at, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from not_finite(item, (*at, key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from not_finite(item, (*at, i))
    elif isinstance(value, float) and not math.isfinite(value):
        yield at, f"{value} is not a number a limit can be", "write a finite number, e.g. 0.35"
