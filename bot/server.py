"""The HTTP server behind ``staffroom serve``: Slack events, Teams, health and metrics on aiohttp.

``/slack/events`` serves Slack, ``/api/messages`` Microsoft Teams (Bot Framework), each only when
configured (``bot/startup.py`` says which and why). ``/healthz`` says the process is alive;
``/readyz`` that it can answer (database reachable and migrated, index loaded), else 503 with
the reasons; ``/metrics`` is for Prometheus, on its own port when ``STAFFROOM_METRICS_PORT`` is
set. ``/``, ``/privacy`` and ``/terms`` are plain pages (``bot/pages.py``); ``/insights`` are the
leaders' pages (``bot/insights_web``). Every request gets a request id that its log lines carry
(``bot/logs.py``). Beside the server run the loops: the pipeline's sweep, review-post retries,
the insights jobs and the follow-through scheduler (check-ins, notices: ``bot/follow_jobs.py``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import uuid
from typing import TYPE_CHECKING

from aiohttp import web

from bot.app import Components
from bot.logs import request_ids
from bot.startup import FirstIndex
from staffroom_errors import StaffroomError

if TYPE_CHECKING:
    from bot.core import Core
    from bot.flows.triage import ReviewDesk
    from bot.metrics import Metrics
    from bot.settings import Settings

log = logging.getLogger(__name__)

COMPONENTS = web.AppKey("components", Components)
MAX_BODY = 1024 * 1024  # Slack bodies are a few KB; 40,000-character messages fit easily


FIRST_INDEX = web.AppKey("first_index", FirstIndex)


def build_web_app(components: Components, settings: Settings | None = None) -> web.Application:
    """The aiohttp application for ``components`` (no sockets opened).

    With ``settings`` (as `serve` runs it) Slack's route exists only when Slack over HTTP is
    configured, the public pages are added, and ``/metrics`` moves to its own port when
    ``STAFFROOM_METRICS_PORT`` is set.
    """
    from bot.startup import surfaces

    app = web.Application(client_max_size=MAX_BODY, middlewares=[request_ids])
    app[COMPONENTS] = components
    slack_http = settings is None or surfaces(settings).slack_http.on
    if components.slack is not None and slack_http:
        app.router.add_post("/slack/events", components.slack.handle_http)
    if components.teams is not None:
        app.router.add_post("/api/messages", components.teams.handle_http)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    if settings is None or not settings.metrics_port:
        app.router.add_get("/metrics", _metrics(components).handle_http)
    if settings is not None:
        from bot.pages import add_routes

        add_routes(app, settings)
    if components.insights is not None:
        from bot.insights_web import add_routes as add_insights

        add_insights(app, components.insights.pages)
    return app


def build_metrics_app(components: Components) -> web.Application:
    """``/metrics`` alone, for the private listener on ``STAFFROOM_METRICS_PORT``."""
    app = web.Application()
    app.router.add_get("/metrics", _metrics(components).handle_http)
    return app


def _metrics(components: Components) -> Metrics:
    from bot.metrics import Metrics

    return components.metrics or Metrics(components.database)


def routes(app: web.Application) -> list[str]:
    """``METHOD /path`` for every route of ``app`` (HEAD twins left out), as the log shows them."""
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter", "")
        if route.method != "HEAD":
            found.append(f"{route.method} {path}")
    return found


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def _readyz(request: web.Request) -> web.Response:
    problems = await asyncio.to_thread(
        readiness_problems, request.app[COMPONENTS], first_index=request.app.get(FIRST_INDEX)
    )
    return web.json_response(
        {"ready": not problems, "problems": problems}, status=503 if problems else 200
    )


def readiness_problems(
    components: Components, *, first_index: FirstIndex | None = None
) -> list[str]:
    """Why this replica cannot answer yet ([] when it can): database and index checks.

    While ``first_index`` builds a fresh data dir's index, it names the index problem
    ("indexing 40%") instead of "there is no index yet".
    """
    from store import migrate

    problems: list[str] = []
    database = components.database
    if database is None:
        problems.append("database: not configured")
    else:
        try:
            database.check()
            # SQLite is migrated at start-up; elsewhere `staffroom db upgrade` must have run.
            sqlite = database.engine.url.get_backend_name() == "sqlite"
            revision = migrate.head() if sqlite else migrate.current(database.engine)
            if revision != migrate.head():
                problems.append(
                    f"database: schema at {revision or 'nothing'}, not {migrate.head()}: "
                    "run `staffroom db upgrade`"
                )
        except StaffroomError as err:
            problems.append(f"database: {err.message}")
    retriever = components.retriever
    if retriever is None:
        problems.append("index: no searcher configured")
    else:
        try:
            retriever.info()  # cheap once loaded; loads the published version the first time
        except StaffroomError as err:
            building = first_index.problem() if first_index is not None else None
            problems.append(building or f"index: {err.user_text()}")
    return problems


def serve(settings: Settings) -> None:
    """Build everything and serve until Ctrl-C or SIGTERM (blocking)."""
    from bot.app import build
    from bot.logs import configure
    from bot.startup import quiet_third_party_logs

    configure(settings.log_level, settings.log_format)
    quiet_third_party_logs(settings.log_level)
    components = build(settings)

    async def main() -> None:
        try:
            await run(
                components,
                settings.host,
                settings.port,
                settings.slack_app_token,
                retry_seconds=settings.review_retry_seconds,
                sweep_seconds=max(1.0, settings.answer_lease_seconds / 3),
                settings=settings,
            )
        finally:
            # close the OpenAI client on the loop it was used on
            await components.aclose()

    try:
        asyncio.run(main())
    finally:
        components.close()


async def retry_review_posts(desk: ReviewDesk, every: float) -> None:
    """Forever: post ideas whose review post failed (one replica at a time, by a DB lock)."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    while True:
        try:
            posted = await desk.retry_pending(holder)
            if posted:
                log.info("posted %s pending idea(s) to the review channel", posted)
        except Exception:
            log.exception("retrying review posts failed; trying again in %ss", every)
        await asyncio.sleep(every)


async def answer_abandoned(core: Core, every: float, forget_every: float = 3600.0) -> None:
    """Forever: answer messages a dead replica acknowledged and never answered.

    Once an hour it also drops delivery claims older than a week, so the ledger stays small.
    """
    loop = asyncio.get_running_loop()
    forgot = loop.time()
    while True:
        try:
            answered = await core.delivery.recover()
            if answered:
                log.info("answered %s message(s) another replica had left", answered)
            if loop.time() - forgot >= forget_every:
                forgot = loop.time()
                log.info("forgot %s old delivery claim(s)", await core.delivery.forget_old())
        except Exception:
            log.exception("sweeping unanswered messages failed; trying again in %ss", every)
        await asyncio.sleep(every)


async def insights_upkeep(components: Components, every: float = 60.0) -> None:
    """Forever: the insights jobs (``bot/insights_jobs.py``): topics and retention, the weekly
    digest when it is due, gap-closing DMs after a new index version. Every replica runs them;
    the database and the delivery ledger make each happen once."""
    if components.insights is None:
        return
    while True:
        await components.insights.jobs.run_once()  # logs its own failures
        await asyncio.sleep(every)


async def run(
    components: Components,
    host: str,
    port: int,
    app_token: str = "",
    *,
    retry_seconds: float = 60.0,
    sweep_seconds: float = 10.0,
    settings: Settings | None = None,
) -> None:
    """Serve HTTP (and Socket Mode when ``app_token`` is set) until cancelled or signalled.

    The model (and the index, if there is one) is loaded before the port opens, so the first
    ``/readyz`` is quick and a replica that answers is ready. With ``settings``, a fresh data
    dir's library is indexed in the background meanwhile (``/readyz``: "indexing n%").
    """
    from bot.startup import log_surfaces, surfaces

    socket_on = components.slack is not None and bool(app_token)
    first_index = None
    if settings is not None:
        found = surfaces(settings)
        log_surfaces(found)
        socket_on = socket_on and found.socket_mode.on
        first_index = FirstIndex(settings.library, settings.index_dir)
    await asyncio.to_thread(components.warm_up)
    web_app = build_web_app(components, settings)
    runners: list[web.AppRunner] = []
    loops: list[asyncio.Task[None]] = []
    socket_mode = None
    signals: list[signal.Signals] = []
    loop = asyncio.get_running_loop()
    try:
        embedder, database = components.embedder, components.database
        if first_index is not None and database is not None and embedder is not None:
            if await asyncio.to_thread(first_index.needed):
                web_app[FIRST_INDEX] = first_index
                loops.append(asyncio.create_task(first_index.run(database, embedder)))
        bound = await _listen(runners, web_app, host, port)
        log.info(
            "Staffroom listening on http://%s:%s (%s)", host, bound, ", ".join(routes(web_app))
        )
        if settings is not None and settings.metrics_port:
            metrics_app = build_metrics_app(components)
            private = await _listen(runners, metrics_app, host, settings.metrics_port)
            log.info("/metrics is on http://%s:%s only (STAFFROOM_METRICS_PORT)", host, private)
        if socket_on:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            assert components.slack is not None
            socket_mode = AsyncSocketModeHandler(components.slack.app, app_token)
            await socket_mode.connect_async()
            log.info("Slack Socket Mode connected")
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
                signals.append(sig)
            except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
                pass
        loops.append(asyncio.create_task(answer_abandoned(components.core, sweep_seconds)))
        loops.append(asyncio.create_task(insights_upkeep(components)))
        if components.follow is not None:
            loops.append(asyncio.create_task(components.follow.scheduler.forever(30.0)))
        if components.review is not None:
            loops.append(asyncio.create_task(retry_review_posts(components.review, retry_seconds)))
        await stop.wait()
    finally:
        for task in loops:
            task.cancel()
        for sig in signals:
            loop.remove_signal_handler(sig)
        if socket_mode is not None:
            await socket_mode.close_async()
        for runner in reversed(runners):
            await runner.cleanup()
        if components.teams is not None:
            await components.teams.close()


async def _listen(runners: list[web.AppRunner], app: web.Application, host: str, port: int) -> int:
    """Serve ``app`` on ``host:port`` (its runner joins ``runners``); the port actually bound."""
    runner = web.AppRunner(app, access_log=None)  # bot.logs logs access
    await runner.setup()
    runners.append(runner)
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or ()
    return int(sockets[0].getsockname()[1]) if sockets else port
