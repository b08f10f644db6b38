"""When the weekly digest is due: STAFFROOM_DIGEST_AT ("mon 07:30") in STAFFROOM_TIMEZONE.

Light on purpose (settings validate the value at start-up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from staffroom_errors import ConfigError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_AT = re.compile(r"([a-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})", re.I)


@dataclass(frozen=True)
class DigestTime:
    weekday: int  # Monday = 0
    at: time


def parse_digest_at(text: str) -> DigestTime:
    """ "mon 07:30", "Friday 16:00" -> DigestTime; ConfigError otherwise."""
    m = _AT.fullmatch(text.strip())
    if m is None or m.group(1).lower() not in DAYS or int(m.group(2)) > 23 or int(m.group(3)) > 59:
        raise ConfigError(
            f"STAFFROOM_DIGEST_AT {text!r} is not a weekday and a time.",
            hint='Write it like "mon 07:30" (24-hour time, in STAFFROOM_TIMEZONE).',
        )
    return DigestTime(DAYS.index(m.group(1).lower()), time(int(m.group(2)), int(m.group(3))))


def next_due(after: datetime, when: DigestTime, tz: ZoneInfo) -> datetime:
    """The first digest time strictly after ``after`` (aware), as an aware UTC-comparable time."""
    local = after.astimezone(tz)
    day = local.date() + timedelta(days=(when.weekday - local.weekday()) % 7)
    for _ in range(3):
        # Built from the wall clock each time, so a daylight-saving change keeps "07:30" 07:30.
        due = datetime.combine(day, when.at, tzinfo=tz)
        if due > after:
            return due
        day += timedelta(days=7)
    raise AssertionError("unreachable")


def last_due(now: datetime, when: DigestTime, tz: ZoneInfo) -> datetime:
    """The latest digest time at or before ``now``."""
    due = next_due(now - timedelta(days=8), when, tz)
    while (following := next_due(due, when, tz)) <= now:
        due = following
    return due


def due_week(due: datetime, tz: ZoneInfo) -> str:
    """The ISO week a digest due at ``due`` covers the end of ("2026-W05")."""
    year, week, _ = due.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"
