"""The weekly digest's pure parts: when it is due, and what it says (top new gaps, trend, funnel).

Sending waits for the core's delivery pipeline; ``due_week`` names the week a digest belongs
to, so a claim on ("digest", week) in ``insight_sends`` makes it once per week across replicas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from insights.funnel import STATUSES, funnel
from insights.overview import overview
from insights.period import Period
from insights.topics import Gap, gaps
from staffroom_errors import ConfigError
from store import InsightSend
from store.upsert import insert_ignore

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


def due_week(due: datetime, tz: ZoneInfo) -> str:
    """The ISO week a digest due at ``due`` covers the end of ("2026-W05")."""
    year, week, _ = due.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def claim_send(s: Session, kind: str, key: str, detail: dict | None = None) -> bool:
    """True the first time (kind, key) is claimed by any replica; the once-only rule as data."""
    return insert_ignore(
        s,
        InsightSend,
        {"kind": kind, "key": key, "detail": detail or {}, "ref": ""},
        ["kind", "key"],
    )


@dataclass(frozen=True)
class Digest:
    """What the digest says, before any platform's formatting."""

    period: Period
    k: int
    weeks: list[tuple[date, int | None]]  # questions per week; None = fewer than k people
    this_week: int | None
    last_week: int | None
    no_match_share: float | None
    new_gaps: list[Gap]
    funnel: dict[str, int | None]  # ideas in each status now


def build_digest(s: Session, today: date, k: int, *, weeks: int = 8) -> Digest:
    """The digest for the weeks up to ``today`` (gaps first asked in the last two weeks)."""
    period = Period.ending(today, weeks)
    ov = overview(s, period, k)
    recent = Period(period.last - timedelta(weeks=1), period.last)
    fresh = [g for g in gaps(s, recent, k, limit=10).gaps if g.last_asked >= recent.first]
    fun = funnel(s, k, months=1)
    now_row = fun.by_month[-1] if fun.by_month else []
    rows = [(w.week, w.questions.value) for w in ov.weeks]
    return Digest(
        period=period,
        k=k,
        weeks=rows,
        this_week=rows[-1][1] if rows else None,
        last_week=rows[-2][1] if len(rows) > 1 else None,
        no_match_share=ov.no_match_share,
        new_gaps=fresh[:3],
        funnel={st: (now_row[n].value if now_row else 0) for n, st in enumerate(STATUSES)},
    )
