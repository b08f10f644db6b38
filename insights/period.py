"""The weeks a page covers, and the filters it applies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from staffroom_errors import InputError

_SINCE = re.compile(r"(\d+)\s*([dwmy])", re.I)
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


@dataclass(frozen=True)
class Period:
    """Weeks from ``first`` to ``last`` (both Mondays, inclusive)."""

    first: date
    last: date

    @classmethod
    def ending(cls, today: date, weeks: int) -> Period:
        """The ``weeks`` weeks up to and including ``today``'s."""
        last = monday(today)
        return cls(last - timedelta(weeks=max(1, weeks) - 1), last)

    @classmethod
    def since(cls, text: str, today: date) -> Period:
        """ "30d", "12w", "6m", "1y": the weeks covering that long back from today."""
        m = _SINCE.fullmatch(text.strip())
        if m is None:
            raise InputError(
                f"I couldn't read the period {text!r}.", hint="Write it as 30d, 12w, 6m or 1y."
            )
        days = int(m.group(1)) * _UNIT_DAYS[m.group(2).lower()]
        if not 1 <= days <= 3660:
            raise InputError("The period must be between 1 day and 10 years.")
        return cls(monday(today - timedelta(days=days - 1)), monday(today))

    @property
    def weeks(self) -> list[date]:
        count = (self.last - self.first).days // 7 + 1
        return [self.first + timedelta(weeks=n) for n in range(count)]

    def label(self) -> str:
        end = self.last + timedelta(days=6)
        return f"{self.first:%d %b %Y} – {end:%d %b %Y}"


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Slice:
    """Optional filters on questions: grade band and subject (as their words say)."""

    grade_band: str = ""
    subject: str = ""
