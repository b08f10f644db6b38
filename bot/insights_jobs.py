"""Serve's insights jobs, run every minute on every replica (``bot.server.insights_upkeep``).

- **Upkeep**: group new questions into topics, relabel them, delete question text past
  retention (one replica at a time: a database lock; ``insights.upkeep``).
- **Weekly digest** to STAFFROOM_LEADERS_CHANNEL once STAFFROOM_DIGEST_AT has come: sent through
  the delivery pipeline with the key ``digest:<ISO week>``, so however many replicas try, and
  after any restart, it goes out once; a send that died is re-sent by the pipeline's sweep.
  ("digest", week) is then recorded in ``insight_sends``, which outlives the week-long ledger.
- **Gap-closing DMs**: when the searcher has a newly published index version (any re-index:
  chat, CLI, watcher, first index), one replica (a database lock) compares its sessions with
  the last version checked and DMs each asker a new session answers, with the key
  ``gap:<platform>:<user>:<ISO week>``: at most one such DM per person per week.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from bot.delivery import Address, Delivered, Pipeline
from bot.flows.ask import card
from bot.insights_digest import digest_message, gap_notice_reply
from bot.messages import Reply, SessionCard
from insights import gap_notices as gaps
from insights.digest import DigestTime, build_digest, claim_send, due_week, last_due, sent
from insights.upkeep import UpkeepReport, run_upkeep
from staffroom_errors import StaffroomError
from store import acquire_lock, release_lock, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.core import Retriever
    from bot.settings import Settings
    from retrieval.embedder import Embedder
    from retrieval.types import IndexInfo, SessionMeta
    from store.runner import Runner

log = logging.getLogger(__name__)

LATE_LIMIT = timedelta(days=1)  # a digest more than a day late (the server was down) is skipped
GAP_LOCK = "insights-gap-check"
LOCK_SECONDS = 600


@dataclass(frozen=True)
class JobSettings:
    """The settings the jobs read, parsed once."""

    retention_days: int = 90
    k: int = 5
    tz: ZoneInfo = ZoneInfo("UTC")
    digest_at: DigestTime | None = None
    leaders: Address | None = None  # None: no digest
    pages_url: str = "http://localhost:3000"

    @classmethod
    def of(cls, settings: Settings) -> JobSettings:
        from bot.flows.idea_views import channel_setting
        from insights.schedule import parse_digest_at

        return cls(
            retention_days=settings.question_retention_days,
            k=settings.min_group,
            tz=ZoneInfo(settings.timezone),
            digest_at=parse_digest_at(settings.digest_at),
            leaders=channel_setting(settings.leaders_channel),
            pages_url=settings.public_base_url,
        )


class InsightsJobs:
    """One pass of every insights job per ``run_once``; each pass is safe on every replica."""

    def __init__(
        self,
        db: Runner,
        delivery: Pipeline,
        retriever: Retriever,
        embedder: Embedder | None,
        config: JobSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        assert db.database is not None, "the insights jobs need a database"
        self._db, self._database, self._delivery = db, db.database, delivery
        self._retriever, self._embedder = retriever, embedder
        self.config, self.clock = config, clock  # tests move the clock
        self.holder = f"{delivery.replica}:insights"
        self._digest_week = ""  # the last week this process knows had its digest
        self._checked = ""  # the last index version this process knows was checked for gaps

    async def run_once(self) -> None:
        for job in (self.upkeep, self.send_digest, self.close_gaps):
            try:
                await job()
            except Exception:
                log.exception("the insights job %s failed; trying again next time", job.__name__)

    # --- topics and retention ----------------------------------------------------------------

    async def upkeep(self) -> UpkeepReport:
        model = self._embedder
        work = partial(run_upkeep, self._database, model.embed_queries if model else None,
                       model=model.name if model else "", holder=self.holder,
                       retention_days=self.config.retention_days, now=self.clock())  # fmt: skip
        return await self._db.call(work)

    # --- the weekly digest ---------------------------------------------------------------------

    async def send_digest(self) -> Delivered | None:
        """This week's digest if it is due and not sent yet; None when nothing was tried."""
        config, now = self.config, self.clock()
        if config.leaders is None or config.digest_at is None:
            return None
        due = last_due(now, config.digest_at, config.tz)
        week = due_week(due, config.tz)
        if now - due > LATE_LIMIT or week == self._digest_week:
            return None
        if not self._delivery.reaches(config.leaders.platform):
            log.warning("no digest for %s: %s is not configured here (STAFFROOM_LEADERS_CHANNEL)",
                        week, config.leaders.platform)  # fmt: skip
            self._digest_week = week
            return None
        if await self._db.run(sent, "digest", week):
            self._digest_week = week
            return None
        reply = await self._db.run(self._digest, due)
        delivered = await self._delivery.deliver(config.leaders, reply, key=f"digest:{week}")
        if delivered.ok or delivered.repeated:  # repeated: another replica (or its sweep) has it
            ref = delivered.ref.key if delivered.ref is not None else ""
            await self._db.run(claim_send, "digest", week, {"ref": ref})
            self._digest_week = week
            log.info("insights digest for %s %s", week, "sent" if delivered.ok else "was sent")
        return delivered

    def _digest(self, s: Session, due: datetime) -> Reply:
        """The digest of the weeks up to the day before it is due (Monday's covers last week)."""
        covered = (due.astimezone(self.config.tz) - timedelta(days=1)).date()
        return digest_message(build_digest(s, covered, self.config.k), self.config.pages_url)

    # --- gap-closing DMs -----------------------------------------------------------------------

    async def close_gaps(self) -> int:
        """DMs for the sessions a newly published index version added; how many were sent."""
        if self._embedder is None:
            return 0  # topics need the model; without it there are no gaps to match
        try:
            info: IndexInfo | None = await asyncio.to_thread(self._retriever.info)
        except StaffroomError:
            info = None  # no index yet: remembered as an empty library
        version = info.version if info is not None else gaps.NO_INDEX
        if version == self._checked:
            return 0
        if not await self._db.run(acquire_lock, GAP_LOCK, self.holder, LOCK_SECONDS):
            return 0  # another replica is checking; this one looks again next time
        try:
            outcome = await self._check(version, info)
        finally:
            await self._db.run(release_lock, GAP_LOCK, self.holder)
        if outcome is not None:
            self._checked = version
        return outcome or 0

    async def _check(self, version: str, info: IndexInfo | None) -> int | None:
        """Check ``version`` once (None: it changed meanwhile; look again next time)."""
        if await self._db.run(sent, gaps.CHECK, version):
            return 0
        previous = await self._db.run(gaps.last_sessions)
        if info is None:
            if previous is None:
                await self._db.run(gaps.record_check, gaps.NO_INDEX, ())
            return 0
        library = await asyncio.to_thread(self._retriever.sessions)
        if (await asyncio.to_thread(self._retriever.info)).version != version:
            return None
        added = [m for m in library if previous is not None and m.session_id not in previous]
        told = await self._tell(added, _published(info)) if added else 0
        await self._db.run(gaps.record_check, version, [m.session_id for m in library])
        if added:
            log.info("index %s added %s session(s); %s gap DM(s) sent", version, len(added), told)
        return told

    async def _tell(self, added: Sequence[SessionMeta], published: datetime | None) -> int:
        assert self._embedder is not None
        texts = [" ".join([m.title, m.summary, *m.tags]) for m in added]
        vectors = np.asarray(await asyncio.to_thread(self._embedder.embed_documents, texts))
        new = [
            gaps.NewSession(m.session_id, m.title, v, url=m.url)
            for m, v in zip(added, vectors, strict=True)
        ]
        now = self.clock()
        notices = await self._db.run(gaps.gap_notices, new, now=now, asked_before=published,
                                     retention_days=self.config.retention_days)  # fmt: skip
        local, told = now.astimezone(self.config.tz), 0
        year, week, _ = local.isocalendar()
        for notice in notices:
            if not self._delivery.reaches(notice.platform):
                continue  # asked in the terminal, or on a platform this server does not serve
            found = await asyncio.to_thread(self._moment, notice)
            if found is not None:
                notice = replace(notice, session=replace(notice.session, start=found[1]))
            to = Address.direct(notice.platform, notice.user_id)
            key = f"gap:{notice.platform}:{notice.user_id}:{year}-W{week:02d}"
            reply = gap_notice_reply(notice, found[0] if found else _card(notice.session))
            delivered = await self._delivery.deliver(to, reply, key=key)
            if delivered.ok or delivered.repeated:
                await self._db.run(gaps.claim_notice, notice, local)
                told += delivered.ok
        return told

    def _moment(self, notice: gaps.GapNotice) -> tuple[SessionCard, float | None] | None:
        """The new session's card and best moment for what the person asked, if search finds it."""
        try:
            response = self._retriever.search(notice.asked, k=10)
        except StaffroomError:
            return None
        for result in response.results:
            if result.session.session_id == notice.session.session_id:
                return card(result), result.best.start
        return None


def _card(session: gaps.NewSession) -> SessionCard:
    return SessionCard(title=session.title, link=session.url)


def _published(info: IndexInfo) -> datetime | None:
    """When ``info``'s version was written (questions after it were asked with it live)."""
    try:
        when = datetime.fromisoformat(info.built_at)
    except ValueError:
        return None
    when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return when + timedelta(seconds=1)  # written to the second, and published just after
