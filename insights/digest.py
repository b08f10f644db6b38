"""The weekly digest's pure parts: when it is due, and what it says (top new gaps, trend, funnel).

``due_week`` names the week a digest belongs to. The server sends it through the delivery
pipeline with the key ``digest:<week>`` (exactly once across replicas and restarts) and then
records ("digest", week) in ``insight_sends``, which outlives the pipeline's week-long ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from insights.funnel import STATUSES, funnel
from insights.overview import overview
from insights.period import Period
from insights.schedule import DigestTime, due_week, last_due, next_due, parse_digest_at
from insights.topics import Gap, gaps
from store import InsightSend, utcnow
from store.upsert import insert_ignore

__all__ = ["Digest", "DigestTime", "build_digest", "claim_send", "due_week", "last_due",
           "next_due", "parse_digest_at", "sent"]  # fmt: skip


def claim_send(
    s: Session, kind: str, key: str, detail: dict | None = None, *, now: datetime | None = None
) -> bool:
    """True the first time (kind, key) is claimed by any replica; the once-only rule as data."""
    row = {"kind": kind, "key": key, "detail": detail or {}, "ref": "",
           "created_at": now or utcnow()}  # fmt: skip
    return insert_ignore(s, InsightSend, row, ["kind", "key"])


def sent(s: Session, kind: str, key: str) -> bool:
    """Whether (kind, key) was claimed: this week's digest went out, a version was checked."""
    return s.get(InsightSend, (kind, key)) is not None


@dataclass(frozen=True)
class Digest:
    """What the digest says, before any platform's formatting."""

    period: Period
    k: int
    weeks: list[tuple[date, int | None]]  # questions per week; None = fewer than k people
    this_week: int | None
    last_week: int | None
    no_match_share: float | None
    new_gaps: list[Gap]  # the biggest gaps of the last two weeks
    funnel: dict[str, int | None]  # ideas in each status now


def build_digest(s: Session, today: date, k: int, *, weeks: int = 8) -> Digest:
    """The digest for the weeks up to ``today`` (gaps: those of the last two weeks)."""
    period = Period.ending(today, weeks)
    ov = overview(s, period, k)
    recent = Period(period.last - timedelta(weeks=1), period.last)
    fresh = gaps(s, recent, k, limit=3).gaps  # the biggest gaps of the last two weeks
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
