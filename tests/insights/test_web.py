"""The /insights pages over real HTTP: 401 without a session, CSRF on every POST, views logged."""

from __future__ import annotations

import re

import aiohttp
import pytest

from bot.app import Components
from store import DesignQuestion, InsightPageView
from tests.insights.conftest import STAFF, TEACHER, sign_in_link, signed_in
from tests.insights.helpers import ask, people

PAGES = [
    "/insights", "/insights/topics", "/insights/gaps", "/insights/library", "/insights/ideas",
    "/insights/adoption",
]  # fmt: skip


@pytest.fixture
def seeded(components: Components) -> Components:
    with components.database.session() as s:
        for user in people(7):
            ask(s, user, "how do i share chromebooks between classes", good=False)
    return components


@pytest.mark.parametrize("path", PAGES + ["/insights/gaps/1/design-question", "/insights/nope"])
async def test_every_page_without_a_session_is_401_with_no_data(seeded, site, path) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(site + path) as r:
            body = await r.text()
            assert r.status == 401
            assert "Sign in" in body and "chromebooks" not in body and "<table" not in body
        async with http.get(site + path, cookies={"staffroom_insights": "forged.value"}) as r:
            assert r.status == 401


async def test_sign_in_then_every_page_opens_and_each_view_is_logged(seeded, site) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await signed_in(http, site, seeded)
        for path in PAGES:
            async with http.get(site + path) as r:
                body = await r.text()
                assert r.status == 200, path
                assert "<svg" in body and 'role="img"' in body and "<table" in body
                assert "cdn" not in body.lower() and "https://" not in body
                assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    with seeded.database.session() as s:
        views = s.query(InsightPageView).order_by(InsightPageView.id).all()
    assert [v.path for v in views] == PAGES and {v.user_id for v in views} == {STAFF}


async def test_a_link_is_single_use_even_in_the_browser(seeded, site) -> None:
    link = await sign_in_link(seeded)
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as first,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as second,
    ):
        for http, expected in ((first, 303), (second, 401)):
            async with http.get(site + link) as r:  # previews (GET) never use the link up
                page = await r.text()
            fields = dict(re.findall(r'name="(token|csrf)" value="([^"]+)"', page))
            async with http.post(
                site + "/insights/signin", data=fields, allow_redirects=False
            ) as r:
                assert r.status == expected


async def test_a_post_without_the_csrf_token_is_refused(seeded, site) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await signed_in(http, site, seeded)
        async with http.post(
            site + "/insights/gaps/1/design-question", data={"text": "How might we share devices?"}
        ) as r:
            assert r.status == 403
    with seeded.database.session() as s:
        assert s.query(DesignQuestion).count() == 0


async def test_a_gap_becomes_an_announced_design_question(seeded, site, courier) -> None:
    from insights.upkeep import run_upkeep
    from retrieval.embedder import FakeEmbedder

    run_upkeep(
        seeded.database,
        FakeEmbedder().embed_queries,
        model="fake",
        retention_days=90,
        holder="test",
    )
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await signed_in(http, site, seeded)
        async with http.get(site + "/insights/gaps") as r:
            page = await r.text()
        topic = re.search(r"/insights/gaps/(\d+)/design-question", page).group(1)
        async with http.get(site + f"/insights/gaps/{topic}/design-question") as r:
            form = await r.text()
        assert "How might we help teachers with" in form and "chromebooks" in form
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        async with http.post(
            site + f"/insights/gaps/{topic}/design-question",
            data={"csrf": csrf, "text": "How might we share Chromebooks fairly?", "deadline": ""},
        ) as r:
            done = await r.text()
            assert r.status == 200 and "Design question #1 is open" in done
    ((to, reply),) = courier.sent
    assert to.conversation_id == "C0Q" and "How might we share Chromebooks fairly?" in reply.text
    with seeded.database.session() as s:
        q = s.query(DesignQuestion).one()
        assert q.author_id == STAFF and q.announce_ref


async def test_a_teacher_cannot_sign_in(seeded, site) -> None:
    from bot.messages import Incoming

    (reply,) = await seeded.core.handle(
        Incoming("slack", TEACHER, "D1", "", "insights", surface="command")
    )
    assert "token=" not in reply.text
