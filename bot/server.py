"""The HTTP server behind ``staffroom serve``: Slack events, Teams, health and metrics on aiohttp.

``/slack/events`` serves Slack, ``/api/messages`` Microsoft Teams (Bot Framework). ``/healthz``
says the process is alive; ``/readyz`` that it can answer (database reachable and migrated, index
loaded), else 503 with the reasons; ``/metrics`` is for Prometheus. Every request gets a request
id that its log lines carry (``bot/logs.py``).
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
from staffroom_errors import StaffroomError

if TYPE_CHECKING:
    from bot.core import Core
    from bot.flows.triage import ReviewDesk
    from bot.settings import Settings

log = logging.getLogger(__name__)

COMPONENTS = web.AppKey("components", Components)
MAX_BODY = 1024 * 1024  # Slack bodies are a few KB; 40,000-character messages fit easily


def build_web_app(components: Components) -> web.Application:
    """The aiohttp application for ``components`` (no sockets opened)."""
    from bot.metrics import Metrics

    app = web.Application(client_max_size=MAX_BODY, middlewares=[request_ids])
    app[COMPONENTS] = components
    if components.slack is not None:
        app.router.add_post("/slack/events", components.slack.handle_http)
    if components.teams is not None:
        app.router.add_post("/api/messages", components.teams.handle_http)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    metrics = components.metrics or Metrics(components.database)
    app.router.add_get("/metrics", metrics.handle_http)
    return app


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def _readyz(request: web.Request) -> web.Response:
    problems = await asyncio.to_thread(readiness_problems, request.app[COMPONENTS])
    return web.json_response(
        {"ready": not problems, "problems": problems}, status=503 if problems else 200
    )


def readiness_problems(components: Components) -> list[str]:
    """Why this replica cannot answer yet ([] when it can): database and index checks."""
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
            problems.append(f"index: {err.user_text()}")
    return problems


def serve(settings: Settings) -> None:
    """Build everything and serve until Ctrl-C or SIGTERM (blocking)."""
    from bot.app import build
    from bot.logs import configure

    configure(settings.log_level, settings.log_format)
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


async def run(
    components: Components,
    host: str,
    port: int,
    app_token: str = "",
    *,
    retry_seconds: float = 60.0,
    sweep_seconds: float = 10.0,
) -> None:
    """Serve HTTP (and Socket Mode when ``app_token`` is set) until cancelled or signalled."""
    await asyncio.to_thread(components.warm_up)
    runner = web.AppRunner(build_web_app(components), access_log=None)  # bot.logs logs access
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info(
        "Staffroom listening on http://%s:%s (POST /slack/events, /api/messages, GET /healthz)",
        host,
        port,
    )
    socket_mode = None
    if app_token and components.slack is not None:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        socket_mode = AsyncSocketModeHandler(components.slack.app, app_token)
        await socket_mode.connect_async()
        log.info("Slack Socket Mode connected")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            signals.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass
    loops = [asyncio.create_task(answer_abandoned(components.core, sweep_seconds))]
    if components.review is not None:
        loops.append(asyncio.create_task(retry_review_posts(components.review, retry_seconds)))
    try:
        await stop.wait()
    finally:
        for task in loops:
            task.cancel()
        for sig in signals:
            loop.remove_signal_handler(sig)
        if socket_mode is not None:
            await socket_mode.close_async()
        await runner.cleanup()
        if components.teams is not None:
            await components.teams.close()
