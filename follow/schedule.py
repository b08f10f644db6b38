"""The schedule of proactive follow-through messages, shared by every replica.

``take_due`` leases due rows one by one with a compare-and-set update, so two replicas never
hold the same row; the holder sends it through the delivery pipeline under ``checkin:<id>``
(exactly once even if it dies mid-send: the next holder's send is recognised as a repeat) and
then calls ``sent``, or ``failed``. A lease that ran out (its replica died) is taken over.
At most one check-in (not notices) reaches a person per day (per delay, when the delay is
shorter than a day); a stopped person gets none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from follow.people import _row, stop
from follow.timing import next_free_day, zone
from store import FollowMessage, utcnow

CHECK_INS = ("checkin", "pilot")
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(seconds=15)


@dataclass(frozen=True)
class Due:
    """A leased message to send now."""

    id: int
    platform: str
    user_id: str
    kind: str  # checkin | pilot | notice
    payload: dict[str, Any]
    snoozes: int
    attempts: int
    try_id: int | None
    idea_id: int | None

    @property
    def key(self) -> str:
        """The delivery pipeline's key: the same row is never sent twice."""
        return f"checkin:{self.id}"


def next_due(s: Session, platforms: Sequence[str] = ()) -> datetime | None:
    """When the next waiting row may be taken (its due time, or the end of its lease or retry
    pause), on ``platforms`` (all when empty): a cheap poll, one indexed query."""
    ready = sa.case(
        (
            sa.and_(
                FollowMessage.lease_until.is_not(None),
                FollowMessage.lease_until > FollowMessage.due_at,
            ),
            FollowMessage.lease_until,
        ),
        else_=FollowMessage.due_at,
    )
    query = sa.select(sa.func.min(ready)).where(FollowMessage.state == "due")
    if platforms:
        query = query.where(FollowMessage.platform.in_(list(platforms)))
    found = s.scalar(query)
    if isinstance(found, str):  # SQLite returns an expression's timestamp as text
        found = datetime.fromisoformat(found)
    if found is not None and found.tzinfo is None:
        found = found.replace(tzinfo=UTC)
    return found


def take_due(
    s: Session,
    owner: str,
    *,
    lease: timedelta,
    delay: timedelta,
    default_tz: str = "UTC",
    now: datetime | None = None,
    limit: int = 20,
    platforms: Sequence[str] = (),
    user_id: str = "",
) -> list[Due]:
    """Lease up to ``limit`` due rows for ``owner``; stopped people's rows end, and a check-in
    to someone who had one today moves to their next free day (``delay`` sets the scale).
    Only rows on ``platforms`` (all when empty), and only ``user_id``'s when given (the
    terminal chat takes its own user's), so a row is never leased where it cannot be sent."""
    now = now or utcnow()
    free = sa.or_(FollowMessage.lease_until.is_(None), FollowMessage.lease_until < now)
    query = sa.select(FollowMessage.id).where(
        FollowMessage.state == "due", FollowMessage.due_at <= now, free
    )
    if platforms:
        query = query.where(FollowMessage.platform.in_(list(platforms)))
    if user_id:
        query = query.where(FollowMessage.user_id == user_id)
    ids = s.scalars(query.order_by(FollowMessage.due_at, FollowMessage.id).limit(limit)).all()
    taken: list[Due] = []
    for message_id in ids:
        won = cast(
            CursorResult[Any],
            s.execute(
                sa.update(FollowMessage)
                .where(FollowMessage.id == message_id, FollowMessage.state == "due", free)
                .values(
                    lease_owner=owner, lease_until=now + lease, attempts=FollowMessage.attempts + 1
                )
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        if not won:
            continue  # another replica took it between the select and the update
        row = s.get(FollowMessage, message_id, populate_existing=True)
        assert row is not None
        who = _row(s, row.platform, row.user_id)
        if who.stopped and (row.kind in CHECK_INS or who.stopped_reason == "gone"):
            row.state, row.error, row.lease_until = "stopped", who.stopped_reason, None
            continue
        if row.kind in CHECK_INS and _had_one(s, row, now, delay, zone(who.timezone, default_tz)):
            row.due_at = next_free_day(now, delay, zone(who.timezone, default_tz))
            row.lease_owner, row.lease_until = "", None
            continue
        taken.append(
            Due(
                row.id,
                row.platform,
                row.user_id,
                row.kind,
                dict(row.payload or {}),
                row.snoozes,
                row.attempts,
                row.try_id,
                row.idea_id,
            )  # fmt: skip
        )
    return taken


def _had_one(s: Session, row: FollowMessage, now: datetime, delay: timedelta, tz: Any) -> bool:
    """Whether the person got a check-in today (local day), or within ``delay`` if shorter, or
    one is being sent to them now."""
    if delay < timedelta(days=1):
        since = now - delay
    else:
        local = now.astimezone(tz)
        since = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)
    found = s.scalar(
        sa.select(FollowMessage.id)
        .where(
            FollowMessage.platform == row.platform,
            FollowMessage.user_id == row.user_id,
            FollowMessage.kind.in_(CHECK_INS),
            sa.or_(
                FollowMessage.sent_at >= since,
                sa.and_(FollowMessage.state == "due", FollowMessage.lease_until > now),
            ),
            FollowMessage.id != row.id,
        )
        .limit(1)
    )
    return found is not None


def sent(s: Session, message_id: int, owner: str, now: datetime | None = None) -> bool:
    """The leased row went out (or was already out); False when the lease was lost."""
    now = now or utcnow()
    row = s.get(FollowMessage, message_id, with_for_update=True)
    if row is None or row.state != "due" or row.lease_owner != owner:
        return False
    row.state, row.sent_at, row.lease_until, row.error = "sent", now, None, ""
    if row.kind in CHECK_INS:
        _row(s, row.platform, row.user_id).last_checkin_on = now.date()
    return True


def failed(
    s: Session, message_id: int, owner: str, error: str, *, gone: bool, now: datetime | None = None
) -> str:
    """A send that failed: ``gone`` (the person cannot be reached) stops their schedule; else
    it is retried after a pause, up to ``MAX_ATTEMPTS``. The row's state afterwards."""
    now = now or utcnow()
    row = s.get(FollowMessage, message_id, with_for_update=True)
    if row is None or row.lease_owner != owner or row.state != "due":
        return row.state if row is not None else "missing"
    row.error = error[:500]
    if gone:
        stop(s, row.platform, row.user_id, "gone", now)
        return "stopped"
    if row.attempts >= MAX_ATTEMPTS:
        row.state, row.lease_until = "failed", None
        return "failed"
    row.lease_until = now + RETRY_AFTER * row.attempts
    return "due"


def counts(s: Session) -> dict[str, int]:
    """Rows per state (the bench and ``staffroom`` status read it)."""
    rows = s.execute(sa.select(FollowMessage.state, sa.func.count()).group_by(FollowMessage.state))
    return {state: int(n) for state, n in rows}
