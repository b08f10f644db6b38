"""The one composition root: settings in, every long-lived part built and wired once.

Heavy imports (torch via the embedder, faiss, slack-bolt) happen inside ``build`` so that
importing this module, and ``staffroom --help``, stay instant.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.core import Core, Retriever

if TYPE_CHECKING:
    from bot.flows.reindex import ReindexFlow
    from bot.flows.triage import ReviewDesk
    from bot.insights_web import InsightsDeps
    from bot.metrics import Metrics
    from bot.settings import Settings
    from bot.slack.app import SlackFrontEnd
    from bot.teams.app import TeamsFrontEnd
    from insights.library import LibrarySession
    from retrieval.embedder import Embedder
    from retrieval.llm_openai import OpenAISynthesizer
    from retrieval.types import SessionMeta
    from store import Database

log = logging.getLogger(__name__)


@dataclass
class Components:
    """What ``build`` wires: the core, its database and the front-ends that are configured."""

    core: Core
    database: Database | None = None
    slack: SlackFrontEnd | None = None
    retriever: Retriever | None = None
    teams: TeamsFrontEnd | None = None
    review: ReviewDesk | None = None  # posts ideas for triage; serve retries failed posts
    reindex: ReindexFlow | None = None  # admins' re-index runs (background tasks)
    metrics: Metrics | None = None  # served at /metrics
    synthesizer: OpenAISynthesizer | None = None  # grounded answers; None without an API key
    insights: InsightsDeps | None = None  # the /insights pages
    upkeep: InsightsUpkeep | None = None  # serve's insights job (topics, retention)

    def warm_up(self) -> None:
        """Load the index and the model now, so the first question is not the slow one."""
        if self.retriever is None:
            return
        try:
            self.retriever.search("warm up", k=1)
        except Exception as err:  # no index yet is fine: the bot says so when asked
            log.warning("warm-up search failed: %s", err)

    async def aclose(self) -> None:
        """Close what lives on the event loop (the LLM client); call it before ``close``."""
        if self.synthesizer is not None:
            synthesizer, self.synthesizer = self.synthesizer, None
            await synthesizer.aclose()

    def close(self) -> None:
        synthesizer, self.synthesizer = self.synthesizer, None
        if synthesizer is not None and not _loop_running():
            # Not closed on its loop (aclose): close its idle connections on a fresh one.
            try:
                asyncio.run(synthesizer.aclose())
            except Exception as err:  # exiting anyway; a socket left to the OS is harmless
                log.debug("closing the LLM client failed: %r", err)
        self.core.close()
        if self.database is not None:
            self.database.dispose()


def build(
    settings: Settings, *, retriever: Retriever | None = None, embedder: Embedder | None = None
) -> Components:
    """Every part for ``settings``; ``retriever``/``embedder`` replace the real ones (tests)."""
    from bot.budget import DatabaseTokenBudget
    from bot.metrics import MeteredRecords, Metrics
    from bot.records import SqlRecords
    from retrieval.answer import build_synthesizer
    from store import Database
    from store.migrate import upgrade

    url = settings.database_url_or_default
    database = Database.from_url(
        url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
    )
    if database.engine.url.get_backend_name() == "sqlite":
        upgrade(
            database.engine
        )  # one box, one file: keep it current; PostgreSQL migrates at deploy
    if retriever is None:
        embedder = embedder or _embedder(settings)
        retriever = _searcher(settings, embedder)
    budget = DatabaseTokenBudget(database, settings.llm_daily_tokens)
    synthesizer = build_synthesizer(settings, budget=budget)
    metrics = Metrics(database)
    core = Core(
        retriever,
        MeteredRecords(SqlRecords(database, timezone=settings.timezone), metrics),
        synthesizer=synthesizer,
        top=settings.answer_top,
        max_question_chars=settings.max_question_chars,
        search_workers=settings.search_workers,
        answer_lease=settings.answer_lease_seconds,
        db_patience=settings.db_patience_seconds,
    )
    slack = None
    if settings.slack_signing_secret or settings.slack_app_token:
        from bot.slack.app import SlackFrontEnd

        slack = SlackFrontEnd(
            core,
            signing_secret=settings.slack_signing_secret,
            token=settings.slack_bot_token,
            api_url=settings.slack_api_url,
            command=settings.slack_command,
            recent=lambda n: _recent_sessions(retriever, n),
            ideas=lambda platform, user: _user_ideas(database, platform, user),
        )
    teams = _teams(settings, core, database, retriever) if teams_enabled(settings) else None
    review = _idea_flows(settings, core, database, retriever, embedder, slack)
    reindex = _reindex_flow(settings, core, database, retriever, embedder)
    insights, upkeep = _insights(settings, core, database, retriever, embedder, slack)
    return Components(
        core=core,
        database=database,
        slack=slack,
        retriever=retriever,
        teams=teams,
        review=review,
        reindex=reindex,
        metrics=metrics,
        synthesizer=synthesizer,
        insights=insights,
        upkeep=upkeep,
    )


@dataclass(frozen=True)
class InsightsUpkeep:
    """What serve's insights job needs (``insights.upkeep.run_upkeep``)."""

    embed: Callable[[Sequence[str]], Any] | None
    model: str
    retention_days: int


def _insights(
    settings: Settings,
    core: Core,
    database: Database,
    retriever: Retriever,
    embedder: Embedder | None,
    slack: SlackFrontEnd | None,
) -> tuple[InsightsDeps, InsightsUpkeep]:
    """The `insights` sign-in flow on the core, the pages' dependencies and the upkeep job's."""
    from zoneinfo import ZoneInfo

    from bot.flows.idea_views import channel_setting
    from bot.flows.insights import HELP, InsightsLinkDeps, InsightsLinkFlow
    from bot.insights_web import InsightsDeps
    from bot.insights_web.questions import open_design_question
    from ideas import GroupMembers, Roles, StaffRoster

    groups: dict[str, GroupMembers] = {}
    if slack is not None and settings.staff_usergroup.strip():
        from bot.slack.usergroups import SlackUserGroup

        groups["slack"] = SlackUserGroup(slack.poster.client, settings.staff_usergroup.strip())
    staff = StaffRoster(Roles.parse(settings.staff_users, settings.admin_users), groups)
    flow = InsightsLinkFlow(
        InsightsLinkDeps(database, staff, settings.public_base_url, core.outbox)
    )
    core.register("insights", flow.on_insights, help=HELP)
    where = channel_setting(settings.questions_channel)
    model = embedder or getattr(retriever, "embedder", None)
    deps = InsightsDeps(
        database=database,
        secret=_secret_key(settings),
        k=settings.min_group,
        tz=ZoneInfo(settings.timezone),
        catalog=lambda: _library_sessions(retriever),
        is_staff=staff.is_staff,
        open_question=lambda viewer, text, deadline: open_design_question(
            database, core.outbox, where, viewer, text, deadline
        ),
        questions_channel=settings.questions_channel,
        secure_cookie=settings.public_base_url.startswith("https://"),
    )
    upkeep = InsightsUpkeep(
        embed=model.embed_queries if model is not None else None,
        model=getattr(model, "name", "") if model is not None else "",
        retention_days=settings.question_retention_days,
    )
    return deps, upkeep


def _secret_key(settings: Settings) -> bytes:
    """STAFFROOM_SECRET_KEY, else a key generated once into the data dir (one server only)."""
    import os
    import secrets

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


def _library_sessions(retriever: Retriever) -> list[LibrarySession]:
    """Every session of the live index, for library use ("never sent")."""
    from insights.library import LibrarySession

    live = getattr(retriever, "_live", None)  # TODO(retrieval): a public Searcher.sessions()
    if live is None:
        return []
    return sorted(
        (LibrarySession(m.session_id, m.title, m.url) for m in live.snapshot.sessions.values()),
        key=lambda m: m.title,
    )


def _idea_flows(
    settings: Settings,
    core: Core,
    database: Database,
    retriever: Retriever,
    embedder: Embedder | None,
    slack: SlackFrontEnd | None = None,
) -> ReviewDesk:
    """Pitch, triage, design questions and idea browsing on the core."""
    from bot.flows.idea_views import IdeaDeps, channel_setting
    from bot.flows.ideas_wiring import install
    from ideas import GroupMembers, Roles, StaffRoster

    roles = Roles.parse(settings.staff_users, settings.admin_users)
    groups: dict[str, GroupMembers] = {}
    if slack is not None and settings.staff_usergroup.strip():
        from bot.slack.usergroups import SlackUserGroup

        groups["slack"] = SlackUserGroup(slack.poster.client, settings.staff_usergroup.strip())
    deps = IdeaDeps(
        database=database,
        outbox=core.outbox,
        roles=roles,
        staff=StaffRoster(roles, groups),
        retriever=retriever,
        embed=embedder.embed_documents if embedder is not None else None,
        embed_model=getattr(embedder, "name", "") if embedder is not None else "",
        review=channel_setting(settings.review_channel),
        questions=channel_setting(settings.questions_channel),
    )
    return install(core, deps)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _reindex_flow(
    settings: Settings,
    core: Core,
    database: Database,
    retriever: Retriever,
    embedder: Embedder | None,
) -> ReindexFlow:
    """`reindex` and `status` for admins, building with the searcher's own model."""
    from functools import cache

    from bot.flows.reindex import REINDEX_HELP, ReindexDeps, ReindexFlow
    from ideas import Roles

    @cache
    def model() -> Embedder:
        return embedder or getattr(retriever, "embedder", None) or _embedder(settings)

    flow = ReindexFlow(
        ReindexDeps(
            database=database,
            outbox=core.outbox,
            roles=Roles.parse(settings.staff_users, settings.admin_users),
            library=settings.library,
            index_dir=settings.index_dir,
            embedder=model,
        )
    )
    core.register("reindex", flow.on_reindex, help=REINDEX_HELP)
    core.register("status", flow.on_status)
    return flow


def teams_enabled(settings: Settings) -> bool:
    """STAFFROOM_TEAMS: on, off, or auto (an app id is set, or no-auth on localhost only)."""
    mode = settings.teams.strip().lower()
    if mode in ("on", "off"):
        return mode == "on"
    return bool(settings.microsoft_app_id) or settings.host in ("127.0.0.1", "localhost", "::1")


def _teams(
    settings: Settings, core: Core, database: Database, retriever: Retriever
) -> TeamsFrontEnd:
    from bot.teams.app import TeamsFrontEnd
    from bot.teams.auth import BotConfig, authentication
    from bot.teams.refs import SqlConversationRefs

    config = BotConfig.from_settings(settings)
    if config.local:
        log.warning("Teams runs WITHOUT authentication (no MICROSOFT_APP_ID): local use only")
    return TeamsFrontEnd(
        core,
        authentication(config),
        app_id=config.APP_ID,
        refs=SqlConversationRefs(database),
        service_url=settings.teams_service_url,
        recent=lambda n: _recent_sessions(retriever, n),
    )


def _embedder(settings: Settings) -> Embedder:
    from retrieval.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(settings.embed_model, device=settings.embed_device)


def _searcher(settings: Settings, embedder: Embedder) -> Retriever:
    from retrieval.search import Searcher

    return Searcher(settings.index_dir, embedder, threshold=settings.match_threshold)


def _recent_sessions(retriever: Retriever, count: int) -> Sequence[SessionMeta]:
    """The newest sessions of the live index (by date), for the home screen."""
    live = getattr(retriever, "_live", None)  # TODO(retrieval): a public Searcher.sessions()
    sessions = list(live.snapshot.sessions.values()) if live is not None else []
    return sorted(sessions, key=lambda m: (m.date, m.title), reverse=True)[:count]


def _user_ideas(database: Database, platform: str, user_id: str) -> Sequence[str]:
    """ "Title — status" for the user's newest ideas."""
    from ideas.service import list_ideas
    from ideas.status import status_label

    with database.session() as s:
        ideas = list_ideas(s, author=(platform, user_id), limit=10)
        return [f"{idea.title} — {status_label(idea.status)}" for idea in ideas]
