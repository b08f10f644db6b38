"""A real browser (Debian's chromium, headless, driven by Playwright) signs in through a link,
opens every insights page, sees the charts render with no console errors, and saves screenshots
under test-artifacts/insights/. Without a session the pages show no data.

CI starts from a fresh clone: when /usr/bin/chromium is missing the fixture installs it with
apt-get (root, as CI runs); only outside CI, where that is impossible, is the test skipped.
Playwright never downloads a browser here: it launches the system one by path.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestServer

from bot.app import Components, build
from bot.server import build_web_app
from bot.settings import Settings
from insights.library import LibrarySession
from insights.synthetic import seed
from insights.upkeep import run_upkeep
from retrieval.embedder import FakeEmbedder
from store import utcnow
from store.migrate import upgrade
from tests.bot.fakes import FakeRetriever
from tests.insights.conftest import STAFF, Courier, sign_in_link
from tests.insights.helpers import seed_adoption

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "insights"
LIBRARY = ROOT / "examples" / "library"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PAGES = [
    ("overview", "/insights"),
    ("topics", "/insights/topics?weeks=26"),
    ("topics-filtered", "/insights/topics?weeks=26&grade=6-8"),
    ("gaps", "/insights/gaps?weeks=26"),
    ("library", "/insights/library?weeks=26"),
    ("ideas", "/insights/ideas"),
    ("adoption", "/insights/adoption"),
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, installed with apt-get when missing (as CI, a fresh machine, needs)."""
    if not CHROMIUM.exists() and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
            if done.returncode != 0:
                _unavailable(f"{' '.join(cmd)} failed: {done.stderr[-500:]}")
    if not CHROMIUM.exists():
        _unavailable("no /usr/bin/chromium, and it cannot be installed here (not root/apt)")
    return CHROMIUM


@pytest.fixture
def district(tmp_path: Path) -> Iterator[Components]:
    """Half a year of synthetic history in a real app (topics grouped by the fake embedder:
    this test is about the pages; bench/insights.py measures topics with the real model)."""
    url = f"sqlite:///{(tmp_path / 'browser.db').as_posix()}"
    upgrade(url)
    settings = Settings(
        _env_file=None, data_dir=tmp_path / "data", database_url=url,
        staff_users=f"slack:{STAFF}", questions_channel="C0Q",
        secret_key="browser-test-secret-key", host="127.0.0.1", teams="off",
    )  # fmt: skip
    parts = build(settings, retriever=FakeRetriever())
    parts.core.delivery.register("slack", Courier())
    assert parts.insights is not None
    pages = replace(parts.insights.pages, catalog=_sample_catalog)
    parts.insights = replace(parts.insights, pages=pages)
    with parts.database.session() as s:
        seed(s, questions=2000, askers=180, schools=8, weeks=26, end=utcnow().date(), ideas=160)
        seed_adoption(s)  # pilots and tries for the adoption page
    embedder = FakeEmbedder(dim=512)
    run_upkeep(parts.database, embedder.embed_queries, model=embedder.name,
               retention_days=365, holder="browser-test")  # fmt: skip
    yield parts
    parts.close()


def _sample_catalog() -> list[LibrarySession]:
    """The sample library's sessions (as the live index would list them)."""
    catalog = yaml.safe_load((LIBRARY / "catalog.yaml").read_text(encoding="utf-8"))
    sessions = [
        LibrarySession(x["id"], x["title"], x.get("recording_url", "")) for x in catalog["sessions"]
    ]
    return sessions + [LibrarySession("assessment-for-ell", "Assessing English Learners Fairly")]


@pytest.fixture
async def site(district: Components) -> AsyncIterator[str]:
    server = TestServer(build_web_app(district))
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def test_sign_in_and_see_every_page_in_a_real_browser(
    chromium: Path, district: Components, site: str, tmp_path: Path
) -> None:
    playwright = pytest.importorskip("playwright.async_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    outside: list[str] = []
    async with playwright.async_playwright() as p:
        context = await p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh --user-data-dir
            executable_path=str(chromium),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        page = context.pages[0] if context.pages else await context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(site) else outside.append(r.url))

        # Without a session: 401, a short explanation, no data.
        response = await page.goto(site + "/insights")
        assert response is not None and response.status == 401
        assert await page.locator("svg.chart, table").count() == 0
        assert "Sign in" in await page.inner_text("h1")
        await page.screenshot(path=str(ARTIFACTS / "00-no-session.png"))
        problems.clear()  # the 401 itself is logged as a console error by chromium

        # Through the link: the button redeems it and lands on the overview.
        await page.goto(site + await sign_in_link(district))
        problems.clear()  # the sign-in page is a 401 too (no session yet): chromium logs it
        await page.click("text=Sign in to insights")
        await page.wait_for_url(re.compile(r".*/insights$"))

        for n, (name, path) in enumerate(PAGES, 1):
            response = await page.goto(site + path)
            assert response is not None and response.status == 200, path
            await page.wait_for_selector("svg.chart")
            charts = int(await page.evaluate("document.documentElement.dataset.charts || '0'"))
            assert charts >= 1, path
            for box in await page.locator("svg.chart").evaluate_all(
                "els => els.map(e => [e.getBoundingClientRect().width,"
                " e.querySelectorAll('rect').length, e.getAttribute('aria-labelledby')])"
            ):
                width, rects, label = box
                assert width > 200 and rects >= 1 and label, (path, box)
            assert await page.locator("table").count() >= 1, path
            await page.screenshot(path=str(ARTIFACTS / f"{n:02d}-{name}.png"), full_page=True)

        # A gap's design-question form, pre-filled.
        await page.goto(site + "/insights/gaps?weeks=26")
        await page.click("text=Turn into a design question >> nth=0")
        text = await page.input_value("textarea[name=text]")
        assert text.startswith("How might we help teachers with")
        await page.screenshot(path=str(ARTIFACTS / "07-design-question.png"), full_page=True)

        # Signing out ends the session: the pages are closed again.
        await page.goto(site + "/insights")
        await page.click("text=Sign out")
        assert problems == [], problems
        response = await page.goto(site + "/insights/topics")
        assert response is not None and response.status == 401
        assert await page.locator("svg.chart, table").count() == 0
        await context.close()
    assert outside == [], outside  # nothing from a CDN or the internet
