"""Numbers as a reader sees them: units, signs and rounding in one place.

Values of ``percent`` metrics are shares (0.312 is shown as "31.2%"); ``currency`` is
KRW, which has no minor unit ("₩12,300"). Missing or non-finite values show as "—".
Wording (such as the "pts" suffix) comes from the caller's message catalogue.
"""

from __future__ import annotations

import math
import re
from typing import Literal

__all__ = [
    "MISSING",
    "Unit",
    "format_change",
    "format_delta",
    "format_number",
    "format_share",
    "format_value",
    "is_finite",
    "md_escape",
]

Unit = Literal["percent", "number", "currency", "score"]

MISSING = "—"
_MINUS = "\u2212"
_CURRENCY_SYMBOL = "₩"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def is_finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def format_number(x: float) -> str:
    """Thousands separators; two decimals at most, and none from 100 up."""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _magnitude(x: float, unit: Unit, points: str) -> str:
    """``abs(x)`` in ``unit``; for percent deltas ``points`` is the pattern ("{} pts")."""
    x = abs(x)
    if unit == "percent":
        return points.format(f"{x * 100:.1f}")
    if unit == "currency":
        return f"{_CURRENCY_SYMBOL}{x:,.0f}"
    if unit == "score":
        return f"{x:,.1f}"
    return format_number(x)


def _signed(x: float, magnitude: str, plus: str) -> str:
    """Prefix a sign, but never on a value that rounds to zero ("0.0%", not "−0.0%")."""
    if not re.search(r"[1-9]", magnitude):
        return magnitude
    return (_MINUS if x < 0 else plus) + magnitude


def format_value(x: float | None, unit: Unit) -> str:
    """A level: "31.2%", "₩12,300", "1,234", "42.0"."""
    if x is None or not is_finite(x):
        return MISSING
    return _signed(x, _magnitude(x, unit, "{}%"), plus="")


def format_delta(x: float | None, unit: Unit, *, points: str) -> str:
    """A signed difference in metric units: "+2.1 pts", "−₩1,200", "+340"."""
    if x is None or not is_finite(x):
        return MISSING
    return _signed(x, _magnitude(x, unit, points), plus="+")


def format_change(delta: float, expected: float, unit: Unit, *, points: str) -> str | None:
    """Size of a move, unsigned: points for percent and score metrics, relative % for others.

    None when it cannot be said (no expected value, or a relative change from zero).
    """
    if not (is_finite(delta) and is_finite(expected)):
        return None
    if unit == "percent":
        return _magnitude(delta, unit, points)
    if unit == "score":  # NPS-like scales: a relative change of a score near 0 means nothing
        return points.format(f"{abs(delta):.1f}")
    if expected == 0:
        return None
    return f"{abs(delta / expected) * 100:.1f}%"


def format_share(x: float | None) -> str:
    """A fraction as a whole percentage: 0.78 -> "78%"."""
    if x is None or not is_finite(x):
        return MISSING
    return f"{x * 100:.0f}%"


def md_escape(value: object) -> str:
    """Text safe to drop into Markdown (and a table cell): no markup, no raw HTML tags."""
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)
