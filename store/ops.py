"""Operations helpers: database locks shared by replicas, and the re-index run log."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from store.base import utcnow
from store.models import Lock, ReindexRun
from store.upsert import affected, insert_ignore


def acquire_lock(
    s: Session,
    name: str,
    holder: str,
    ttl: timedelta | float,
    *,
    now: datetime | None = None,
) -> bool:
    """Take `name` for `ttl` (seconds or a timedelta); True when `holder` now holds it.

    A free name is inserted; an expired lock, or one `holder` already holds (a renewal),
    is taken over by one conditional UPDATE, so two replicas can never both win.
    """
    now = now or utcnow()
    expires = now + (ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl))
    row = {"name": name, "holder": holder, "acquired_at": now, "expires_at": expires}
    if insert_ignore(s, Lock, row, ["name"]):
        return True
    res = s.execute(
        sa.update(Lock)
        .where(Lock.name == name, sa.or_(Lock.expires_at <= now, Lock.holder == holder))
        .values(holder=holder, acquired_at=now, expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    return bool(affected(res))


def release_lock(s: Session, name: str, holder: str) -> bool:
    """Give up `name` if `holder` holds it; True when a lock was released."""
    res = s.execute(
        sa.delete(Lock)
        .where(Lock.name == name, Lock.holder == holder)
        .execution_options(synchronize_session=False)
    )
    return bool(affected(res))


def get_lock(s: Session, name: str) -> Lock | None:
    return s.get(Lock, name, populate_existing=True)


def start_reindex_run(s: Session, started_by: str, platform: str) -> ReindexRun:
    run = ReindexRun(started_by=started_by, platform=platform, started_at=utcnow())
    s.add(run)
    s.flush()
    return run


def finish_reindex_run(
    s: Session,
    run_id: int,
    *,
    succeeded: bool,
    summary: Mapping[str, Any] | None = None,
    error: str = "",
) -> ReindexRun:
    run = s.get(ReindexRun, run_id)
    if run is None:
        raise LookupError(f"no reindex run {run_id}")
    run.status = "succeeded" if succeeded else "failed"
    run.finished_at = utcnow()
    run.summary = dict(summary or {})
    run.error = error
    s.flush()
    return run


def latest_reindex_run(s: Session) -> ReindexRun | None:
    return s.scalars(sa.select(ReindexRun).order_by(ReindexRun.id.desc()).limit(1)).first()
