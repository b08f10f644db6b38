"""When a check-in is due: a delay (``STAFFROOM_CHECKIN_AFTER``, ``7d`` or ``45s``); day-scale delays land on a school
day (Monday to Friday) at a morning hour in the teacher's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MORNING = time(8, 30)  # local time a day-scale check-in arrives


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
    school morning (with a delay under a day, as in tests and demos: one delay later)."""
    if delay < timedelta(days=1):
        return now + delay
    return school_morning(now.astimezone(tz).date() + timedelta(days=1), tz)
