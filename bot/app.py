"""The one composition root: settings in, every long-lived part built and wired once.

Heavy imports (torch via the embedder, faiss, slack-bolt) happen inside ``build`` so that
importing this module, and ``staffroom --help``, stay instant.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core import Core, Retriever
from staffroom_errors import StaffroomError

if TYPE_CHECKING:
    from bot.core.followups import TurnSearch
    from bot.flows.idea_views import IdeaDeps
    from bot.flows.publish import Publisher
    from bot.flows.reindex import ReindexFlow
    from bot.flows.triage import ReviewDesk
    from bot.follow_flow import TimezoneOf
    from bot.follow_wiring import Follow
    from bot.insights_wiring import Insights
    from bot.metrics import Metrics
    from bot.settings import Settings
    from bot.slack.app import SlackFrontEnd
    from bot.teams.app import TeamsFrontEnd
    from retrieval.embedder import Embedder
    from retrieval.llm_budget import TokenBudget
    from retrieval.llm_openai import OpenAISynthesizer
    from retrieval.llm_rewrite import OpenAIQueryRewriter
    from store import Database

log = logging.getLogger(__name__)
REWRITE_TIMEOUT = 3.0  # seconds an LLM may take to rewrite a follow-up before the rules stand


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
    embedder: Embedder | None = None  # the searcher's model (None: a test's retriever alone)
    insights: Insights | None = None  # the /insights pages and serve's insights jobs
    publisher: Publisher | None = None  # adopted ideas into the library (chat and CLI)
    follow: Follow | None = None  # follow-through: serve runs its check-in scheduler
    rewriter: OpenAIQueryRewriter | None = None  # LLM rewrite of follow-ups; None without a key

    def warm_up(self) -> None:
        """Load the model, then the index, now: the first question (and /readyz) is not slow."""
        if self.retriever is None:
            return
        if self.embedder is not None:
            self.embedder.embed_queries(["warm up"])  # loads the model, even with no index yet
        try:
            self.retriever.search("warm up", k=1)
        except StaffroomError as err:  # no index yet is fine: the bot says so when asked
            log.info("no index loaded yet: %s", err.user_text())
        except Exception as err:
            log.warning("warm-up search failed: %s", err)

    def _llm_clients(self) -> list[OpenAISynthesizer | OpenAIQueryRewriter]:
        """The LLM clients still open, handed over once (each is closed once)."""
        clients = [c for c in (self.synthesizer, self.rewriter) if c is not None]
        self.synthesizer = self.rewriter = None
        return clients

    async def aclose(self) -> None:
        """Close what lives on the event loop (the LLM clients); call it before ``close``."""
        for client in self._llm_clients():
            await client.aclose()

    def close(self) -> None:
        clients = self._llm_clients()
        if clients and not _loop_running():
            # Not closed on their loop (aclose): close their idle connections on a fresh one.
            for client in clients:
                try:
                    asyncio.run(client.aclose())
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
    from bot.flows.home import ideas_of
    from bot.flows.ideas_wiring import install as install_idea_flows
    from bot.insights_wiring import install as install_insights
    from bot.metrics import MeteredRecords, Metrics
    from bot.records import SqlRecords
    from bot.startup import surfaces
    from retrieval.llm_setup import build_synthesizer
    from store import Database
    from store.migrate import upgrade
    from store.runner import Runner

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
        db=Runner(database, patience=settings.db_patience_seconds),
        turns=(turns := _turns(settings, retriever, budget)),
        context_idle=settings.context_idle,
    )
    core.register_home_ideas(ideas_of(database))
    slack = None
    chat = surfaces(settings)  # Slack needs its bot token, and a secret or an app token
    if chat.slack_http.on or chat.socket_mode.on:
        from bot.slack.app import SlackFrontEnd

        slack = SlackFrontEnd(
            core,
            signing_secret=settings.slack_signing_secret,
            token=settings.slack_bot_token,
            api_url=settings.slack_api_url,
            command=settings.slack_command,
        )
    if slack is not None:  # idea authors, reviewers and the export get display names
        from bot.names import slack_names

        core.names.register("slack", slack_names(slack.courier.call))
    teams = _teams(settings, core, database) if chat.teams.on else None
    idea_deps = _idea_deps(settings, core, retriever, embedder, slack)
    review = install_idea_flows(core, idea_deps, draft_ttl=settings.draft_ttl)
    reindex = _reindex_flow(settings, core, database, retriever, embedder)
    insights = install_insights(settings, core, database, retriever, embedder, idea_deps)
    publisher = _publisher(settings, core, database, idea_deps, embedder)
    follow = _follow(settings, core, review, slack)
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
        embedder=embedder,
        insights=insights,
        publisher=publisher,
        follow=follow,
        rewriter=getattr(turns, "rewriter", None),
    )


def _follow(
    settings: Settings, core: Core, review: ReviewDesk, slack: SlackFrontEnd | None
) -> Follow:
    """*I'll try this*, check-ins, followers and pilots (``bot/follow_wiring.py``)."""
    from datetime import timedelta

    from bot.follow_flow import FollowConfig
    from bot.follow_wiring import install

    after = timedelta(seconds=settings.checkin_after)
    config = FollowConfig(after, settings.timezone, settings.min_group)
    return install(core, core.db, config, review=review, timezone_of=slack_timezones(slack))


def slack_timezones(slack: SlackFrontEnd | None) -> TimezoneOf | None:
    """A Slack user's time zone from ``users.info`` (needs the users:read scope)."""
    if slack is None:
        return None
    courier = slack.courier

    async def timezone_of(platform: str, user_id: str) -> str:
        if platform != "slack":
            return ""
        found = await courier.call("users.info", read=True, user=user_id)
        user = (found or {}).get("user") or {}
        return str(user.get("tz") or "") if isinstance(user, dict) else ""

    return timezone_of


def _idea_deps(
    settings: Settings,
    core: Core,
    retriever: Retriever,
    embedder: Embedder | None,
    slack: SlackFrontEnd | None = None,
) -> IdeaDeps:
    """What the idea flows (and the insights pages) share: who is staff, where ideas go."""
    from bot.flows.idea_views import IdeaDeps, channel_setting
    from ideas import CachedGroup, GroupMembers, Roles, StaffRoster

    roles = Roles.parse(settings.staff_users, settings.admin_users)
    groups: dict[str, GroupMembers] = {}
    group_id = settings.staff_usergroup.strip()
    if slack is not None and group_id:
        groups["slack"] = CachedGroup(group_id, slack.courier.usergroup_members)
    return IdeaDeps(
        db=core.db,
        delivery=core.delivery,
        roles=roles,
        staff=StaffRoster(roles, groups),
        retriever=retriever,
        embed=embedder.embed_documents if embedder is not None else None,
        embed_model=embedder.name if embedder is not None else "",
        review=channel_setting(settings.review_channel),
        questions=channel_setting(settings.questions_channel),
        names=core.names,
    )


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
        return embedder or _embedder(settings)

    flow = ReindexFlow(
        ReindexDeps(
            database=database,
            delivery=core.delivery,
            roles=Roles.parse(settings.staff_users, settings.admin_users),
            library=settings.library,
            index_dir=settings.index_dir,
            embedder=model,
            keep_versions=settings.index_keep_versions,
        )
    )
    core.register("reindex", flow.on_reindex, help=REINDEX_HELP)
    core.register("status", flow.on_status)
    return flow


def _publisher(
    settings: Settings,
    core: Core,
    database: Database,
    idea_deps: IdeaDeps,
    embedder: Embedder | None,
) -> Publisher:
    """Staff publish adopted ideas as library sessions: `publish 12` in chat, or the CLI."""
    from functools import cache

    from bot.flows.publish import PUBLISH_HELP, PublishDeps, Publisher, follow_audience
    from ideas.publishing import add_audience

    @cache
    def model() -> Embedder:
        return embedder or _embedder(settings)

    publisher = Publisher(
        PublishDeps(
            db=core.db,
            database=database,
            delivery=core.delivery,
            directory=idea_deps.directory,
            library=settings.library,
            index_dir=settings.index_dir,
            embedder=model,
            keep_versions=settings.index_keep_versions,
        )
    )
    add_audience("followers and pilot members", follow_audience)  # told too, each once
    core.register("publish", publisher.on_publish, help=PUBLISH_HELP)
    core.register_form("publish", publisher.form_spec())
    return publisher


def _teams(settings: Settings, core: Core, database: Database) -> TeamsFrontEnd:
    from bot.delivery.contacts import Contacts
    from bot.teams.app import TeamsFrontEnd
    from bot.teams.auth import BotConfig, authentication

    config = BotConfig.from_settings(settings)
    if config.local:
        log.warning("Teams runs WITHOUT authentication (no MICROSOFT_APP_ID): local use only")
    return TeamsFrontEnd(
        core,
        authentication(config),
        app_id=config.APP_ID,
        contacts=Contacts(database, "teams"),
        service_url=settings.teams_service_url,
    )


def _embedder(settings: Settings) -> Embedder:
    from retrieval.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(settings.embed_model, device=settings.embed_device)


def _turns(settings: Settings, retriever: Retriever, budget: TokenBudget) -> TurnSearch | None:
    """Judged follow-up turns over the Searcher (None: a plain retriever gets the rules only);
    with an API key an LLM may rewrite follow-ups, under the grounded answers' fallback rules."""
    from retrieval.conversation import ConversationSearch
    from retrieval.embedder import BUNDLED_NAME
    from retrieval.matching import MatchJudge
    from retrieval.scope import OFF_TOPIC_MARGIN, ScopeClassifier

    embedder = getattr(retriever, "embedder", None)
    if embedder is None or not hasattr(embedder, "embed_queries"):
        return None
    # An explicit STAFFROOM_MATCH_THRESHOLD means the calibrated bar does not apply.
    calibrated = None if settings.match_threshold is None else False
    # Off-topic vs gap is calibrated for the bundled model only: with another one every miss
    # is a gap (never silently dropped from the gap log).
    margin = OFF_TOPIC_MARGIN if embedder.name == BUNDLED_NAME else math.inf
    scope = ScopeClassifier(embedder, margin=margin)
    judge = MatchJudge(embedder, calibrated=calibrated, scope=scope, top=settings.answer_top)
    rewriter = None
    timeout = min(settings.llm_timeout, REWRITE_TIMEOUT)
    if settings.openai_api_key.strip():  # checked by build_synthesizer already
        from retrieval.llm_rewrite import OpenAIQueryRewriter

        rewriter = OpenAIQueryRewriter(
            settings.openai_api_key.strip(),
            base_url=settings.openai_base_url.strip() or None,
            model=settings.llm_model,
            timeout=timeout,
            budget=budget,
        )
    return ConversationSearch(
        retriever,  # type: ignore[arg-type]
        judge,
        top=settings.answer_top,
        rewriter=rewriter,
        rewrite_timeout=timeout,
    )


def _searcher(settings: Settings, embedder: Embedder) -> Retriever:
    from retrieval.rerank import build_reranker
    from retrieval.search import Searcher

    return Searcher(
        settings.index_dir,
        embedder,
        threshold=settings.match_threshold,
        reranker=build_reranker(settings.rerank_model, device=settings.embed_device),
        rerank_candidates=settings.rerank_candidates,
    )
