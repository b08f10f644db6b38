"""Insights on the core (one call from ``bot.app.build``): the `insights` sign-in keyword, the
/insights pages' dependencies, and serve's insights jobs.

Everything is the core's own: staff is the idea flows' roster (configured ids and the cached
Slack user group), messages go through ``core.delivery``, database work through ``core.db``, the
catalog is ``retriever.sessions()`` and the model is the searcher's embedder.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.flows.insights import HELP, InsightsLinkDeps, InsightsLinkFlow
from bot.insights_jobs import InsightsJobs, JobSettings
from bot.insights_web import InsightsDeps
from bot.insights_web.questions import open_design_question
from insights.library import LibrarySession
from staffroom_errors import StaffroomError

if TYPE_CHECKING:
    from bot.core import Core, Retriever
    from bot.flows.idea_views import IdeaDeps
    from bot.settings import Settings
    from retrieval.embedder import Embedder
    from store import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Insights:
    """The pages' dependencies (served under /insights) and the jobs `staffroom serve` runs."""

    pages: InsightsDeps
    jobs: InsightsJobs


def install(
    settings: Settings,
    core: Core,
    database: Database,
    retriever: Retriever,
    embedder: Embedder | None,
    ideas: IdeaDeps,
) -> Insights:
    staff = ideas.directory
    link = InsightsLinkFlow(
        InsightsLinkDeps(core.db, staff, settings.public_base_url, core.delivery)
    )
    core.register("insights", link.on_insights, help=HELP)
    pages = InsightsDeps(
        database=database,
        secret=secret_key(settings),
        k=settings.min_group,
        tz=ZoneInfo(settings.timezone),
        catalog=partial(catalog, retriever),
        is_staff=staff.is_staff,
        open_question=partial(open_design_question, ideas),
        questions_channel=settings.questions_channel,
        secure_cookie=settings.public_base_url.startswith("https://"),
    )
    jobs = InsightsJobs(core.db, core.delivery, retriever, embedder, JobSettings.of(settings))
    return Insights(pages, jobs)


def catalog(retriever: Retriever) -> list[LibrarySession]:
    """Every session of the live index, by title ("never sent" on the library page)."""
    try:
        sessions = retriever.sessions()
    except StaffroomError:  # no index yet
        return []
    return sorted((LibrarySession(m.session_id, m.title, m.url) for m in sessions),
                  key=lambda m: m.title)  # fmt: skip


def secret_key(settings: Settings) -> bytes:
    """STAFFROOM_SECRET_KEY, else a key generated once into the data dir (one server only)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)  # atomic: a complete key or none; the first process wins
        except FileExistsError:
            os.unlink(tmp)
            return path.read_text().strip().encode()
        os.unlink(tmp)
        # Only a problem with several replicas, which means PostgreSQL: warn there.
        several = not settings.database_url_or_default.startswith("sqlite")
        log.log(
            logging.WARNING if several else logging.INFO,
            "no STAFFROOM_SECRET_KEY: generated one in %s (set it for several replicas)",
            path,
        )
    return path.read_text().strip().encode()
