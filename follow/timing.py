"""When a check-in is due: a delay such as ``7d`` or ``45s``; day-scale delays land on a school
day (Monday to Friday) at a morning hour in the teacher's time zone."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from staffroom_errors import ConfigError

MORNING = time(8, 30)  # local time a day-scale check-in arrives
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.I)


def parse_duration(text: str) -> timedelta:
    """``45s``, ``10m``, ``2h``, ``7d``, ``2w`` (a bare number is seconds)."""
    found = _DURATION.match(str(text))
    if found is None or float(found.group(1)) <= 0:
        raise ConfigError(
            f"{text!r} is not a duration.",
            hint="Use a number and a unit: 45s, 10m, 2h, 7d or 2w.",
        )
    return timedelta(seconds=float(found.group(1)) * _UNITS[(found.group(2) or "s").lower()])


def zone(name: str, default: str = "UTC") -> ZoneInfo:
    """The IANA zone ``name``, else ``default`` (a platform may send a name we do not know)."""
    for candidate in (name, default, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def school_morning(day: date, tz: ZoneInfo) -> datetime:
    """``day`` or the next school day after it, at ``MORNING`` local time."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, MORNING, tzinfo=tz)


def due_after(now: datetime, delay: timedelta, tz: ZoneInfo) -> datetime:
    """When a check-in ``delay`` after ``now`` is due: exact under a day, else a school morning."""
    if delay < timedelta(days=1):
        return now + delay
    return school_morning((now + delay).astimezone(tz).date(), tz)


def next_free_day(now: datetime, delay: timedelta, tz: ZoneInfo) -> datetime:
    """The next allowed moment when today's one check-in has gone out already: tomorrow's
    school morning (or, with a seconds-scale delay as in tests and demos, a day later)."""
    if delay < timedelta(days=1):
        return now + timedelta(days=1)
    return school_morning(now.astimezone(tz).date() + timedelta(days=1), tz)
