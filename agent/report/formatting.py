"""Numbers and dates as a reader sees them: units, signs, rounding and locale in one place.

Values of ``percent`` metrics are shares (0.312 is shown as "31.2%"); ``currency`` is
KRW, which has no minor unit ("₩12,300" in English, "12,300원" in Korean). Missing or
non-finite values show as "—". Locale patterns (the "pts" / "%p" suffix, month names,
date order) come from the message catalog.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from agent.model import Episode, Unit
from agent.report.messages import MESSAGES
from agent.text import one_line

__all__ = [
    "MISSING",
    "alert_opened",
    "Unit",
    "format_change",
    "format_date",
    "format_delta",
    "format_number",
    "format_percent",
    "format_period",
    "format_share",
    "format_value",
    "is_finite",
    "md_escape",
    "segment_label",
]

MISSING = "—"
_MINUS = "\u2212"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def is_finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def format_number(x: float) -> str:
    """Thousands separators; two decimals at most, and none from 100 up."""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _magnitude(x: float, unit: Unit, locale: str, *, delta: bool) -> str:
    """``abs(x)`` in ``unit``; a percent ``delta`` is in points ("4.1 pts", "4.1%p")."""
    x = abs(x)
    if unit == "percent":
        pattern = MESSAGES[locale]["points"] if delta else "{}%"
        return pattern.format(f"{x * 100:.1f}")
    if unit == "currency":
        return MESSAGES[locale]["currency"].format(f"{x:,.0f}")
    if unit == "score":
        return f"{x:,.1f}"
    return format_number(x)


def _signed(x: float, magnitude: str, plus: str) -> str:
    """Prefix a sign, but never on a value that rounds to zero ("0.0%", not "−0.0%")."""
    if not re.search(r"[1-9]", magnitude):
        return magnitude
    return (_MINUS if x < 0 else plus) + magnitude


def format_value(x: float | None, unit: Unit, locale: str = "en") -> str:
    """A level: "31.2%", "₩12,300" (ko "12,300원"), "1,234", "42.0"."""
    if x is None or not is_finite(x):
        return MISSING
    return _signed(x, _magnitude(x, unit, locale, delta=False), plus="")


def format_delta(x: float | None, unit: Unit, locale: str = "en") -> str:
    """A signed difference in metric units: "+2.1 pts" (ko "+2.1%p"), "−₩1,200", "+340"."""
    if x is None or not is_finite(x):
        return MISSING
    return _signed(x, _magnitude(x, unit, locale, delta=True), plus="+")


def format_change(delta: float, expected: float, unit: Unit, locale: str = "en") -> str | None:
    """Size of a move, unsigned: points for percent and score metrics, relative % for others.

    None when it cannot be said (no expected value, or a relative change from zero).
    """
    if not (is_finite(delta) and is_finite(expected)):
        return None
    if unit == "percent":
        return _magnitude(delta, unit, locale, delta=True)
    if unit == "score":  # NPS-like scales: a relative change of a score near 0 means nothing
        return MESSAGES[locale]["score_points"].format(f"{abs(delta):.1f}")
    if expected == 0:
        return None
    return f"{abs(delta / expected) * 100:.1f}%"


def format_date(dt: datetime, locale: str = "en", *, year: bool = False) -> str:
    """A day: "Nov 18" / "Nov 18, 2026"; ko "11월 18일" / "2026년 11월 18일"."""
    msg = MESSAGES[locale]
    month = msg["months"].split()[dt.month - 1]
    return msg["date_year" if year else "date"].format(month=month, day=dt.day, year=dt.year)


def format_period(dt: datetime, grain: str, locale: str = "en", *, year: bool = False) -> str:
    """A period for its grain: "Nov 18, 14:00", "Nov 18", "the week of Nov 18", "Nov 2026";
    ko "11월 18일 14시", "11월 18일", "11월 18일 주", "2026년 11월"."""
    msg = MESSAGES[locale]
    if grain == "hour":
        return msg["at_hour"].format(date=format_date(dt, locale, year=year), hour=dt.hour)
    if grain == "month":
        month = msg["months"].split()[dt.month - 1]
        return msg["month_year"].format(month=month, year=dt.year)
    date = format_date(dt, locale, year=year)
    return msg["week_of"].format(date=date) if grain == "week" else date


def alert_opened(episode: Episode) -> datetime:
    """When an alert opened ("alert open since"): its episode's first period with a finding
    (``first_seen``), or its onset for an episode that does not record that period.

    Not the change's onset ("the change began"), which the detectors date and may date
    again, earlier or later, in a later run.
    """
    return episode.first_seen or episode.since


def format_share(x: float | None) -> str:
    """A fraction as a whole percentage: 0.78 -> "78%"."""
    if x is None or not is_finite(x):
        return MISSING
    return f"{x * 100:.0f}%"


def format_percent(x: float, unlike: str = "") -> str:
    """A ratio to one decimal at most: 0.183 -> "18.3%", 0.15 -> "15%"; more decimals while
    it would read as ``unlike`` (a move of 10.04% against a limit of 10%)."""
    for digits in (1, 2, 3):
        text = f"{100 * x:.{digits}f}".rstrip("0").rstrip(".") + "%"
        if text != unlike:
            break
    return text


def segment_label(segment: dict[str, str], msg: dict[str, str]) -> str:
    """``{"channel": "app", "device": "android"}`` -> "channel=app & device=android"."""
    if not segment:
        return msg["all_customers"]
    return " & ".join(f"{dim}={val}" for dim, val in segment.items())


def md_escape(value: object) -> str:
    """Text safe to drop into Markdown (and a table cell): one line, no markup, no raw HTML
    tags, no control characters."""
    text = one_line(str(value))
    return _MD_SPECIAL.sub(r"\\\1", text)
