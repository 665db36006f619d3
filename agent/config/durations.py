"""Durations ("30d", "30 days", "P30D") and crontab schedules in a timezone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

__all__ = ["MAX_DURATION", "cron_trigger", "is_valid_cron", "next_runs", "parse_duration"]

_ISO_CALENDAR = re.compile(r"^P[^T]*[YM]", re.IGNORECASE)
_ISO = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)
_PLAIN = re.compile(r"(?P<n>\d+)\s*(?P<unit>[a-z]+)")
_UNITS = {
    **dict.fromkeys(("w", "week", "weeks"), "weeks"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("h", "hour", "hours"), "hours"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("s", "sec", "second", "seconds"), "seconds"),
}
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MAX_DURATION = timedelta(days=3660)
"""Longest duration accepted (ten years): longer ones overflow the dates they are added to."""
_SECONDS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}


def parse_duration(text: object) -> timedelta:
    """Read a duration such as ``30d``, ``30 days``, ``2w``, ``12h`` or ISO ``P30D``."""
    if isinstance(text, timedelta):
        return text
    raw = str(text).strip() if isinstance(text, str | int) and not isinstance(text, bool) else ""
    if _ISO_CALENDAR.match(raw):
        raise ValueError(f"{_shown(raw)}: months and years vary in length; write days, e.g. P30D")
    iso = _ISO.fullmatch(raw)
    if iso and raw not in ("P", "PT"):
        parts = {k: int(v) for k, v in iso.groupdict().items() if v}
    else:
        plain = _PLAIN.fullmatch(raw.lower())
        if not plain or plain["unit"] not in _UNITS:
            raise ValueError(f"{_shown(text)} is not a duration; write e.g. 30d, 30 days or P30D")
        parts = {_UNITS[plain["unit"]]: int(plain["n"])}
    seconds = sum(_SECONDS[unit] * n for unit, n in parts.items())
    if seconds <= 0:
        raise ValueError(
            f"{_shown(raw)} is not a positive duration; write e.g. 30d, 30 days or P30D"
        )
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(
            f"{_shown(raw)} is longer than {MAX_DURATION.days} days; write a shorter one"
        )
    return timedelta(seconds=seconds)


def _shown(value: object) -> str:
    """``value`` as the message shows it: quoted, and cut when long."""
    text = repr(value)
    return text if len(text) <= 32 else text[:28] + "…"


def _crontab_days(field: str) -> list[int]:
    """Expand a crontab day-of-week field (0 and 7 are Sunday) into sorted day numbers 0..6."""
    days: set[int] = set()
    for item in field.split(","):
        spec, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if spec == "*":
            lo, hi = 0, 7
        elif "-" in spec:
            lo_text, hi_text = spec.split("-", 1)
            lo, hi = _day_number(lo_text), _day_number(hi_text)
        else:
            lo = hi = _day_number(spec)
        if lo > hi or step < 1:
            raise ValueError(f"day-of-week range {item!r} is not valid")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return sorted(days)


def _day_number(token: str) -> int:
    token = token.strip().lower()
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    if token[:3] in _DOW_NAMES:
        return _DOW_NAMES.index(token[:3])
    raise ValueError(f"day of week {token!r} is not 0-7 or a name like mon")


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """An APScheduler trigger for a 5-field crontab line, read the crontab way.

    APScheduler numbers weekdays from 0 = Monday while crontab uses 0 = Sunday, so the
    day-of-week field is rewritten with day names before APScheduler sees it.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"{expr!r} has {len(fields)} fields; a schedule is 5 crontab fields, e.g. '0 9 * * *'"
        )
    minute, hour, day, month, dow = fields
    if dow != "*":
        dow = ",".join(_DOW_NAMES[d] for d in _crontab_days(dow))
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=dow,
        timezone=ZoneInfo(timezone),
    )


def next_runs(trigger: CronTrigger, now: datetime, count: int = 3) -> list[datetime]:
    """The next ``count`` fire times of ``trigger`` strictly after ``now``."""
    runs: list[datetime] = []
    previous: datetime | None = None
    current = now
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, current)
        if fire is None:
            break
        runs.append(fire)
        previous, current = fire, fire + timedelta(seconds=1)
    return runs


def is_valid_cron(expr: str) -> str | None:
    """None when ``expr`` is a valid schedule, else the reason."""
    try:
        cron_trigger(expr, "UTC")
    except ValueError as exc:
        return str(exc)
    return None
