"""The public pages `staffroom serve` answers: ``/`` (what this is), ``/privacy`` and ``/terms``.

Teams requires a privacy and a terms-of-use URL in the app package; these pages are what they
point at unless ``STAFFROOM_PRIVACY_URL`` / ``STAFFROOM_TERMS_URL`` name the district's own.
Plain HTML from settings: no script, no external resource, nothing about any person.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web

if TYPE_CHECKING:
    from bot.settings import Settings

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
    "color:#1d2b28}h1{color:#2e6b5e}a{color:#2e6b5e}"
)


def org_name(settings: Settings) -> str:
    """Who runs this Staffroom: STAFFROOM_ORG_NAME, else the public host, else "your district"."""
    name = settings.org_name.strip()
    if name:
        return name
    host = urlsplit(settings.public_url.strip()).hostname
    return host or "your district"


def _contact(settings: Settings) -> str:
    email = settings.contact_email.strip()
    if email:
        return f'<a href="mailto:{escape(email)}">{escape(email)}</a>'
    return f"the PD team at {escape(org_name(settings))}"


def _page(settings: Settings, title: str, body: str) -> str:
    app = escape(settings.app_name)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · {app}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>{body}"
        f'<p><small>{app} · <a href="/">about</a> · <a href="/privacy">privacy</a> · '
        f'<a href="/terms">terms of use</a></small></p></body></html>'
    )


def home_html(settings: Settings) -> str:
    org, app = escape(org_name(settings)), escape(settings.app_name)
    return _page(
        settings,
        settings.app_name,
        f"<p>{app} is {org}'s professional-development assistant in Slack and Microsoft Teams. "
        "Ask it a teaching question and it answers from the district's library of recorded PD "
        "sessions, with the moment to watch; pitch a practice that works in your classroom and "
        "follow it through review.</p>"
        f"<p>Questions about {app}: {_contact(settings)}.</p>",
    )


def privacy_html(settings: Settings) -> str:
    org, app, contact = escape(org_name(settings)), escape(settings.app_name), _contact(settings)
    if settings.openai_api_key.strip():
        where = urlsplit(settings.openai_base_url.strip()).hostname or "OpenAI"
        llm = (
            f"<p>To write a short answer, {app} sends your question and a few excerpts from the "
            f"library to a language model service ({escape(where)}). It sends no names, user "
            "ids, channels or other messages.</p>"
        )
    else:
        llm = f"<p>{app} does not send your questions to any language model service.</p>"
    return _page(
        settings,
        "Privacy",
        f"<p>{app} is run by {org} on {org}'s own servers. What it keeps stays there.</p>"
        "<h2>What is kept</h2><ul>"
        "<li>Your chat user id and display name, as Slack or Teams sends them.</li>"
        "<li>The questions you ask, the sessions shown to you and your 👍 / 👎, so the PD team "
        "can see which topics the library does not cover yet.</li>"
        "<li>Practices you pitch, their drafts, comments and votes, with your name, because "
        "reviewers and colleagues see who pitched an idea.</li>"
        "<li>Server logs for running the service (which may include question text), kept as "
        f"{org}'s log policy says.</li></ul>"
        f"{llm}"
        "<h2>Please</h2><p>Do not put students' names or other personal details in questions.</p>"
        f"<h2>Your data</h2><p>To see or delete what {app} holds about you, contact "
        f"{contact}.</p>",
    )


def terms_html(settings: Settings) -> str:
    org, app, contact = escape(org_name(settings)), escape(settings.app_name), _contact(settings)
    return _page(
        settings,
        "Terms of use",
        f"<p>{app} is provided by {org} to its staff for professional development.</p><ul>"
        f"<li>Answers point to sessions in {org}'s PD library; use your professional judgement, "
        "and your school's policies come first.</li>"
        "<li>The library's recordings and documents belong to their authors and to "
        f"{org}; share them only as {org} allows.</li>"
        "<li>Ideas you pitch are shared with central staff and colleagues in your district.</li>"
        "<li>Use it respectfully: no personal data about students, nothing you would not say in "
        "a staff meeting.</li></ul>"
        f"<p>Questions: {contact}.</p>",
    )


def add_routes(app: web.Application, settings: Settings) -> None:
    """GET /, /privacy and /terms on ``app``."""
    pages = {"/": home_html, "/privacy": privacy_html, "/terms": terms_html}
    for path, render in pages.items():
        html = render(settings)

        async def handler(request: web.Request, html: str = html) -> web.Response:
            return web.Response(text=html, content_type="text/html", charset="utf-8")

        app.router.add_get(path, handler)
