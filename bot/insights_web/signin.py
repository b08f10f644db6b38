"""Sign-in links: ``/insights/signin?token=...`` shows a button; the token is redeemed only by
the POST it sends, so link previews in Slack or Teams cannot use it up. The redeemed link opens
an 8-hour session (a signed cookie); signing out ends it."""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiohttp import web

from bot.insights_web.http import COOKIE, DEPS, SECURITY_HEADERS, attr, html, unauthorized
from bot.insights_web.layout import Frame, bare
from insights import access

log = logging.getLogger(__name__)

PRE_COOKIE = "staffroom_signin"


async def signin_form(request: web.Request) -> web.Response:
    token = request.query.get("token", "")
    if not token:
        return unauthorized()
    nonce = secrets.token_urlsafe(16)
    body = (
        "<p>Staffroom sent you this link. It works once, within 10 minutes, and opens an "
        "8-hour session in this browser.</p>"
        '<form method="post" action="/insights/signin">'
        f'<input type="hidden" name="token" value="{attr(token)}">'
        f'<input type="hidden" name="csrf" value="{nonce}">'
        '<button type="submit">Sign in to insights</button></form>'
    )
    # 401 all the same: nothing here is data, and there is no session yet.
    response = html(bare("Sign in to Staffroom insights", body), 401)
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


async def signin(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    form = await request.post()
    nonce = request.cookies.get(PRE_COOKIE, "")
    if not nonce or not secrets.compare_digest(nonce, str(form.get("csrf", ""))):
        return html(
            bare("Form expired", "<p>Open the sign-in link from Staffroom again.</p>"), 403
        )

    def redeem() -> access.Viewer | None:
        with deps.database.session() as s:
            return access.redeem(s, str(form.get("token", "")))

    viewer = await asyncio.to_thread(redeem)
    if viewer is None or not await deps.is_staff(viewer.platform, viewer.user_id):
        return html(
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
    response = html(bare("Signed out", "<p>You are signed out of Staffroom insights.</p>"))
    response.del_cookie(COOKIE, path="/")
    return response
