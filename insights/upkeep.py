"""The server's insights job: group new questions into topics, relabel, enforce retention.

One replica at a time (a database lock); each step is its own transaction, so a crash leaves
every step either done or not started. ``staffroom serve`` runs it every minute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from insights.access import purge_links
from insights.clusters import Embed, assign_pending, relabel
from insights.retention import expire_question_text
from store import Database, acquire_lock, release_lock

log = logging.getLogger(__name__)
LOCK = "insights-upkeep"
LOCK_SECONDS = 600


@dataclass(frozen=True)
class UpkeepReport:
    grouped: int = 0
    relabelled: int = 0
    expired: int = 0
    ran: bool = True  # False when another replica holds the job


def run_upkeep(
    database: Database,
    embed: Embed | None,
    *,
    model: str,
    retention_days: int,
    holder: str,
    now: datetime | None = None,
    batch: int = 2000,
) -> UpkeepReport:
    """One pass; ``embed`` None skips grouping (no model available)."""
    with database.session() as s:
        if not acquire_lock(s, LOCK, holder, LOCK_SECONDS, now=now):
            return UpkeepReport(ran=False)
    try:
        # Retention first: text past its time is never embedded or shown again.
        with database.session() as s:
            expired = expire_question_text(s, retention_days, now)
            purge_links(s, now)
        grouped = 0
        if embed is not None:
            while True:
                with database.session() as s:
                    done = assign_pending(s, embed, model=model, limit=batch)
                grouped += done
                if done < batch:
                    break
        with database.session() as s:
            relabelled = relabel(s)
        if grouped or expired:
            log.info(
                "insights: grouped %s question(s), relabelled %s topic(s), cleared text of "
                "%s old question(s)",
                grouped,
                relabelled,
                expired,
            )
        return UpkeepReport(grouped, relabelled, expired)
    finally:
        with database.session() as s:
            release_lock(s, LOCK, holder)
