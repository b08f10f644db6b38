"""What every insights handler shares: the pages' dependencies, the session check, the staff
check, CSRF on every POST, and the page-view log.

Without a valid session every ``/insights`` URL answers 401 with a short explanation and no
data; every page a person sees is logged with who saw it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.insights_web.layout import Frame, bare
from insights import access
from insights.library import LibrarySession
from store import Database, InsightPageView, utcnow

log = logging.getLogger(__name__)

COOKIE = "staffroom_insights"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
NO_SESSION = (
    "<p>These pages are for central staff, and you are not signed in (or your 8-hour session "
    "ended).</p><p>To sign in, type <code>/pd insights</code> in Slack or <code>insights</code> "
    "to Staffroom in Teams: it sends you a link that works once, for 10 minutes.</p>"
)
OpenQuestion = Callable[[access.Viewer, str, "date | None"], Awaitable[tuple[int, bool]]]


@dataclass(frozen=True)
class InsightsDeps:
    """What the pages need, built once by the composition root."""

    database: Database
    secret: bytes
    k: int
    tz: ZoneInfo
    catalog: Callable[[], Sequence[LibrarySession]]  # the live library's sessions (may block)
    is_staff: Callable[[str, str], Awaitable[bool]]  # (platform, user): checked each request
    open_question: OpenQuestion | None = None  # (number, announced) of a new design question
    questions_channel: str = ""
    secure_cookie: bool = False


DEPS = web.AppKey("insights_deps", InsightsDeps)
Page = Callable[[web.Request, access.Viewer, Frame], Awaitable[web.StreamResponse]]


def html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", headers=SECURITY_HEADERS
    )


def unauthorized() -> web.Response:
    return html(bare("Sign in to see insights", NO_SESSION), 401)


def attr(text: str) -> str:
    return escape(text, quote=True)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def guarded(handler: Page, *, post: bool = False) -> Handler:
    """The handler, behind the session check, the staff check, CSRF (POST) and the view log."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        deps = request.app[DEPS]
        viewer = access.read_cookie(request.cookies.get(COOKIE), deps.secret)
        if viewer is None:
            return unauthorized()
        if not await deps.is_staff(viewer.platform, viewer.user_id):
            return html(
                bare("Not available", "<p>Only central staff and admins can see insights.</p>"), 403
            )
        if post:
            form = await request.post()
            if not access.csrf_ok(viewer, deps.secret, str(form.get("csrf", ""))):
                return html(
                    bare(
                        "Form expired",
                        "<p>This form expired or did not come from "
                        "these pages. Go back, reload, and try again.</p>",
                    ),
                    403,
                )
        await asyncio.to_thread(_log_view, deps.database, viewer, request)
        frame = Frame(viewer.name or viewer.user_id, access.csrf_token(viewer, deps.secret), deps.k)
        return await handler(request, viewer, frame)

    return wrapped


def _log_view(database: Database, viewer: access.Viewer, request: web.Request) -> None:
    with database.session() as s:
        s.add(
            InsightPageView(
                platform=viewer.platform,
                user_id=viewer.user_id,
                user_name=viewer.name[:255],
                method=request.method,
                path=str(request.rel_url)[:512],
                viewed_at=utcnow(),
            )
        )
    log.info("insights: %s viewed %s", viewer.who, request.rel_url.path)


