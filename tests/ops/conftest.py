"""Ops fixtures: a small library, an embedder that can hold a build mid-way, the whole app built
by ``bot.app.build`` (the real composition root) behind its real aiohttp server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp.test_utils import TestServer

from bot.app import Components, build
from bot.messages import Incoming, Reply
from bot.server import build_web_app
from bot.settings import Settings
from retrieval.embedder import FakeEmbedder
from store.migrate import upgrade
from tests.slack.conftest import SECRET, fake_slack  # noqa: F401 - the fixture, reused
from tests.teams.conftest import connector  # noqa: F401 - the fixture, reused

ADMIN, TEACHER = "UADMIN", "UTEACH"
ADMINS = f"slack:{ADMIN}, teams:aad-staff, terminal:admin"
FILES = {
    "exit-tickets/notes.md": "# Exit tickets\n\nSort the exit tickets into three piles and "
    "regroup the class tomorrow morning.\n",
    "circles/guide.md": "# Restorative circles\n\nAfter a conflict, sit in a circle with a "
    "talking piece and ask what happened and who was affected.\n",
}


def write_library(root: Path, files: dict[str, str] = FILES) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def migrated_url(db_url: str) -> str:
    """``db_url`` (SQLite, then PostgreSQL) migrated, as `staffroom db upgrade` leaves it."""
    upgrade(db_url)
    return db_url


@pytest.fixture
def library(tmp_path: Path) -> Path:
    return write_library(tmp_path / "library")


class GatedEmbedder(FakeEmbedder):
    """A fake embedder whose document embedding can be held, to catch a build in the middle."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.embedding = threading.Event()  # set once a held build is waiting at the gate

    def hold(self) -> None:
        self.gate.clear()
        self.embedding.clear()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not self.gate.is_set():
            self.embedding.set()
            if not self.gate.wait(timeout=30):
                raise RuntimeError("test gate never opened")
        return super().embed_documents(texts)

    async def wait_held(self) -> None:
        assert await asyncio.to_thread(self.embedding.wait, 10), "the build never reached embedding"


@pytest.fixture
def embedder() -> GatedEmbedder:
    return GatedEmbedder()


def settings_for(tmp_path: Path, db_url: str, library: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "library": library,
        "database_url": db_url,
        "admin_users": ADMINS,
        "teams": "off",
        "match_threshold": 0.1,  # the fake embedder's cosines are low; the ranking is what counts
    }
    return Settings(_env_file=None, **{**values, **extra})


def say(user: str, text: str, platform: str = "terminal", surface: str = "terminal") -> Incoming:
    conversation = "terminal" if platform == "terminal" else f"D{user}"
    return Incoming(platform, user, conversation, "", text, surface, user_name=user.lower())


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


@dataclass
class Running:
    """A built app behind its real HTTP server on a free port."""

    components: Components
    server: TestServer
    session: aiohttp.ClientSession

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def get(self, path: str, **kw: Any) -> tuple[int, str, Any]:
        async with self.session.get(self.url(path), **kw) as response:
            return response.status, await response.text(), response.headers


StartApp = Callable[..., Any]


@pytest.fixture
async def start_app() -> AsyncIterator[StartApp]:
    """``await start_app(settings, embedder=...)`` -> ``Running``; everything closed at the end."""
    running: list[Running] = []

    async def start(settings: Settings, **kw: Any) -> Running:
        components = await asyncio.to_thread(build, settings, **kw)
        server = TestServer(build_web_app(components), host="127.0.0.1", port=0)
        await server.start_server()
        app = Running(components, server, aiohttp.ClientSession())
        running.append(app)
        return app

    yield start
    for app in running:
        if app.components.reindex is not None:
            await app.components.reindex.settle()
        await app.session.close()
        await app.server.close()
        if app.components.teams is not None:
            await app.components.teams.close()
        await app.components.aclose()
        app.components.close()
