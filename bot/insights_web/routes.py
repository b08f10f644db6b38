"""The insights pages' routes: sign-in (``signin``), the five pages, the gap → design question
form, and their static files; every page is behind ``http.guarded``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

from aiohttp import web
from sqlalchemy.orm import Session

from bot.insights_web import pages, use_pages
from bot.insights_web.http import DEPS, InsightsDeps, attr, guarded, html
from bot.insights_web.layout import Frame, bare
from bot.insights_web.signin import signin, signin_form, signout
from insights import access
from insights.period import Period, Slice
from store import utcnow

STATIC = Path(__file__).resolve().parent / "static"
T = TypeVar("T")


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
    r.add_get("/insights/adoption", guarded(adoption))
    r.add_get("/insights/{rest:.*}", guarded(not_found))
    r.add_post("/insights/{rest:.*}", guarded(not_found, post=True))
    r.add_get("/static/insights/{name}", static)


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


async def _in_session(request: web.Request, work: Callable[[Session], T]) -> T:
    deps = request.app[DEPS]

    def run() -> T:
        with deps.database.session() as s:
            return work(s)

    return await asyncio.to_thread(run)


async def overview(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    from insights.overview import overview as figures

    ov = await _in_session(request, lambda s: figures(s, _period(request), frame.k))
    return html(pages.overview_page(frame, ov, _weeks(request)))


async def _titles(request: web.Request) -> dict[str, str]:
    catalog = await asyncio.to_thread(request.app[DEPS].catalog)  # may load a new index version
    return {m.session_id: m.title for m in catalog}


async def topics(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    from insights.topics import topics as figures

    tp = await _in_session(
        request, lambda s: figures(s, _period(request), frame.k, _slice(request))
    )
    return html(pages.topics_page(frame, tp, _weeks(request), await _titles(request)))


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
    return html(pages.gaps_page(frame, gp, _weeks(request), text))


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
    return html(
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
        number, announced = await deps.open_question(viewer, text, deadline)
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
        return html(
            page.replace(
                '<section class="card">',
                '<section class="card"><div '
                f'class="notice" role="alert">{attr(err.user_text())}</div>',
                1,
            ),
            400,
        )
    flag = "" if announced else "&announced=no"
    return web.HTTPSeeOther(f"/insights/gaps?weeks={_weeks(request)}&opened={number}{flag}")


async def library(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    from insights.library import library_use

    catalog = list(await asyncio.to_thread(request.app[DEPS].catalog))
    lp = await _in_session(request, lambda s: library_use(s, _period(request), frame.k, catalog))
    return html(use_pages.library_page(frame, lp, _weeks(request)))


async def funnel(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    from insights.funnel import funnel as figures

    fp = await _in_session(request, lambda s: figures(s, frame.k))
    return html(use_pages.funnel_page(frame, fp))


async def adoption(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    from bot.insights_web.adoption_page import adoption_page
    from insights.adoption import adoption as figures

    ap = await _in_session(request, lambda s: figures(s, frame.k))
    return html(adoption_page(frame, ap))


async def not_found(request: web.Request, viewer: access.Viewer, frame: Frame) -> web.Response:
    return html(
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
