"""HTTP for the insights pages: sign-in links, the session cookie, CSRF, page-view log.

Without a valid session every ``/insights`` URL answers 401 with a short explanation and no
data. A sign-in link (``/insights/signin?token=...``) shows a button; the token is redeemed
only by the POST it sends, so link previews in Slack or Teams cannot use it up. Every POST
carries a CSRF token; every page a person sees is logged with who saw it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.orm import Session

from bot.insights_web import pages
from bot.insights_web.layout import Frame, bare
from insights import access
from insights.library import LibrarySession
from insights.period import Period, Slice
from store import Database, InsightPageView, utcnow

log = logging.getLogger(__name__)

COOKIE = "staffroom_insights"
PRE_COOKIE = "staffroom_signin"
STATIC = Path(__file__).resolve().parent / "static"
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


@dataclass(frozen=True)
class InsightsDeps:
    """What the pages need, built once by the composition root."""

    database: Database
    secret: bytes
    k: int
    tz: ZoneInfo
    catalog: Callable[[], Sequence[LibrarySession]]  # the live library's sessions
    is_staff: Callable[[str, str], object]  # async (platform, user) -> bool: checked each request
    open_question: Callable[[access.Viewer, str, date | None], object] | None = None
    questions_channel: str = ""
    secure_cookie: bool = False


DEPS = web.AppKey("insights_deps", InsightsDeps)


def add_routes(app: web.Application, deps: InsightsDeps) -> None:
    app[DEPS] = deps
    r = app.router
    r.add_get("/insights/signin", signin_form)
    r.add_post("/insights/signin", signin)
    r.add_post("/insights/signout", guarded(signout, post=True))
    r.add_get("/insights", guarded(overview))
    r.add_get("/insights/", guarded(overview))
    r.add_get("/insights/topics", guarded(topics))
    r.add_get("/insights/gaps", guarded(gaps))
    r.add_get(r"/insights/gaps/{topic:\d+}/design-question", guarded(question_form))
    r.add_post(r"/insights/gaps/{topic:\d+}/design-question", guarded(question_post, post=True))
    r.add_get("/insights/library", guarded(library))
    r.add_get("/insights/ideas", guarded(funnel))
    r.add_get("/insights/{rest:.*}", guarded(not_found))
    r.add_post("/insights/{rest:.*}", guarded(not_found, post=True))
    r.add_get("/static/insights/{name}", static)


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", headers=SECURITY_HEADERS
    )


def _unauthorized() -> web.Response:
    return _html(bare("Sign in to see insights", NO_SESSION), 401)


Handler = Callable[[web.Request, access.Viewer, Frame], "asyncio.Future[web.Response] | object"]


def guarded(handler, *, post: bool = False):
    """The handler, behind the session check, the staff check, CSRF (POST) and the view log."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        deps = request.app[DEPS]
        viewer = access.read_cookie(request.cookies.get(COOKIE), deps.secret)
        if viewer is None:
            return _unauthorized()
        if not await deps.is_staff(viewer.platform, viewer.user_id):  # type: ignore[misc]
            return _html(
                bare("Not available", "<p>Only central staff and admins can see insights.</p>"), 403
            )
        if post:
            form = await request.post()
            if not access.csrf_ok(viewer, deps.secret, str(form.get("csrf", ""))):
                return _html(
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


# --- sign-in -----------------------------------------------------------------------------------


async def signin_form(request: web.Request) -> web.Response:
    token = request.query.get("token", "")
    if not token:
        return _unauthorized()
    nonce = secrets.token_urlsafe(16)
    body = (
        "<p>Staffroom sent you this link. It works once, within 10 minutes, and opens an "
        "8-hour session in this browser.</p>"
        '<form method="post" action="/insights/signin">'
        f'<input type="hidden" name="token" value="{_attr(token)}">'
        f'<input type="hidden" name="csrf" value="{nonce}">'
        '<button type="submit">Sign in to insights</button></form>'
    )
    # 401 all the same: nothing here is data, and there is no session yet.
    response = _html(bare("Sign in to Staffroom insights", body), 401)
    response.set_cookie(
        PRE_COOKIE,
        nonce,
        max_age=600,
        httponly=True,
        samesite="Strict",
        path="/insights",
        secure=request.app[DEPS].secure_cookie,
    )
    return response


def _attr(text: str) -> str:
    from html import escape

    return escape(text, quote=True)


async def signin(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    form = await request.post()
    nonce = request.cookies.get(PRE_COOKIE, "")
    if not nonce or not secrets.compare_digest(nonce, str(form.get("csrf", ""))):
        return _html(
            bare("Form expired", "<p>Open the sign-in link from Staffroom again.</p>"), 403
        )

    def redeem() -> access.Viewer | None:
        with deps.database.session() as s:
            return access.redeem(s, str(form.get("token", "")))

    viewer = await asyncio.to_thread(redeem)
    if viewer is None or not await deps.is_staff(viewer.platform, viewer.user_id):  # type: ignore[misc]
        return _html(
            bare(
                "This link no longer works",
                "<p>Sign-in links work once, within 10 "
                "minutes. Type <code>/pd insights</code> (Slack) or <code>insights"
                "</code> (Teams) for a new one.</p>",
            ),
            401,
        )
    value, opened = access.session_cookie(viewer, deps.secret)
    log.info("insights: %s signed in (session %s)", viewer.who, opened.session_id)
    response = web.HTTPSeeOther("/insights", headers=SECURITY_HEADERS)
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(access.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        path="/",
        secure=deps.secure_cookie,
    )
    response.del_cookie(PRE_COOKIE, path="/insights")
    return response


async def signout(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    response = _html(bare("Signed out", "<p>You are signed out of Staffroom insights.</p>"))
    response.del_cookie(COOKIE, path="/")
    return response


# --- pages -------------------------------------------------------------------------------------


def _weeks(request: web.Request) -> int:
    try:
        weeks = int(request.query.get("weeks", "12"))
    except ValueError:
        weeks = 12
    return min(max(weeks, 1), 104)


def _slice(request: web.Request) -> Slice:
    from insights.facets import GRADE_BANDS, SUBJECTS

    grade = request.query.get("grade", "")
    subject = request.query.get("subject", "")
    return Slice(grade if grade in GRADE_BANDS else "", subject if subject in SUBJECTS else "")


def _period(request: web.Request) -> Period:
    deps = request.app[DEPS]
    return Period.ending(utcnow().astimezone(deps.tz).date(), _weeks(request))


async def _in_session(request: web.Request, work: Callable[[Session], object]):
    deps = request.app[DEPS]

    def run():
        with deps.database.session() as s:
            return work(s)

    return await asyncio.to_thread(run)


async def overview(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    from insights.overview import overview as figures

    ov = await _in_session(request, lambda s: figures(s, _period(request), frame.k))
    return _html(pages.overview_page(frame, ov, _weeks(request)))


def _titles(request: web.Request) -> dict[str, str]:
    return {m.session_id: m.title for m in request.app[DEPS].catalog()}


async def topics(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    from insights.topics import topics as figures

    tp = await _in_session(
        request, lambda s: figures(s, _period(request), frame.k, _slice(request))
    )
    return _html(pages.topics_page(frame, tp, _weeks(request), _titles(request)))


async def gaps(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    from insights.topics import gaps as figures

    gp = await _in_session(
        request, lambda s: figures(s, _period(request), frame.k, _slice(request), limit=12)
    )
    notice = request.query.get("opened", "")
    text = f"Design question #{notice} is open." if notice.isdigit() else ""
    if text and request.query.get("announced") == "no":
        text += " It could not be announced in the questions channel (see the server log)."
    elif text:
        text += " It was announced in the questions channel."
    return _html(pages.gaps_page(frame, gp, _weeks(request), text))


async def _gap(request: web.Request, frame: Frame):
    from insights.topics import examples, filters_for, gap_condition

    topic = int(request.match_info["topic"])
    period = _period(request)

    def work(s: Session):
        from store import InsightCluster

        cluster = s.get(InsightCluster, topic)
        if cluster is None:
            return None
        cond = filters_for(period, Slice()) + [gap_condition()]
        return cluster.label, examples(s, topic, cond, frame.k)

    return await _in_session(request, work)


async def question_form(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    found = await _gap(request, frame)
    if found is None:
        return await not_found(request, viewer, frame)
    label, examples = found
    draft = f"How might we help teachers with {label.lower()}?"
    deps = request.app[DEPS]
    return _html(
        pages.design_question_form(
            frame,
            int(request.match_info["topic"]),
            label,
            draft,
            _weeks(request),
            examples,
            deps.questions_channel,
        )
    )


async def question_post(
    request: web.Request, viewer: access.Viewer, frame: Frame
) -> web.StreamResponse:
    deps = request.app[DEPS]
    form = await request.post()
    text = " ".join(str(form.get("text", "")).split())
    when = str(form.get("deadline", "")).strip()
    try:
        deadline = date.fromisoformat(when) if when else None
    except ValueError:
        deadline = None
    if deps.open_question is None or not text:
        return web.HTTPSeeOther(f"/insights/gaps?weeks={_weeks(request)}")
    try:
        number, announced = await deps.open_question(viewer, text, deadline)  # type: ignore[misc]
    except Exception as err:  # a StaffroomError: bad deadline, too long
        from staffroom_errors import StaffroomError

        if not isinstance(err, StaffroomError):
            raise
        found = await _gap(request, frame)
        label, examples = found or ("this gap", ())
        page = pages.design_question_form(
            frame,
            int(request.match_info["topic"]),
            label,
            text,
            _weeks(request),
            examples,
            deps.questions_channel,
        )
        return _html(
            page.replace(
                '<section class="card">',
                '<section class="card"><div '
                f'class="notice" role="alert">{_attr(err.user_text())}</div>',
                1,
            ),
            400,
        )
    flag = "" if announced else "&announced=no"
    return web.HTTPSeeOther(f"/insights/gaps?weeks={_weeks(request)}&opened={number}{flag}")


async def library(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    from insights.library import library_use

    catalog = list(request.app[DEPS].catalog())
    lp = await _in_session(request, lambda s: library_use(s, _period(request), frame.k, catalog))
    return _html(pages.library_page(frame, lp, _weeks(request)))


async def funnel(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    from insights.funnel import funnel as figures

    fp = await _in_session(request, lambda s: figures(s, frame.k))
    return _html(pages.funnel_page(frame, fp))


async def not_found(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    return _html(
        bare("Not found", '<p>No such insights page. <a href="/insights">Overview</a></p>'), 404
    )


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    if name not in {p.name for p in STATIC.iterdir()} or not path.is_file():
        raise web.HTTPNotFound()
    types = {".css": "text/css", ".js": "text/javascript"}
    return web.Response(
        body=path.read_bytes(),
        content_type=types.get(path.suffix, "text/plain"),
        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
