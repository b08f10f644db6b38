"""The insights pages behind the real aiohttp app that `staffroom serve` builds."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import Components, build
from bot.delivery import Address, Delivered, MessageRef
from bot.messages import Reply
from bot.server import build_web_app
from bot.settings import Settings
from store.migrate import upgrade
from tests.bot.fakes import FakeRetriever
from tests.ops.conftest import embedder, library, migrated_url, start_app  # noqa: F401 - fixtures
from tests.slack.conftest import fake_slack  # noqa: F401 - the fixture, reused
from tests.teams.conftest import connector  # noqa: F401 - the fixture, reused

STAFF, TEACHER = "USTAFF", "UTEACH"


@dataclass
class Courier:
    """Records what the core sends on its own (announcements, DMs)."""

    sent: list[tuple[Address, Reply]] = field(default_factory=list)

    async def send(self, to: Address, reply: Reply) -> Delivered:
        self.sent.append((to, reply))
        return Delivered(ref=MessageRef(to.platform, "C0Q", f"{len(self.sent)}.000"))

    async def update(self, ref: MessageRef, reply: Reply, citations=()) -> Delivered:
        return Delivered(ref=ref)

    def streams(self, ref: MessageRef) -> bool:
        return False


@pytest.fixture
def courier() -> Courier:
    return Courier()


@pytest.fixture
def components(db_url: str, tmp_path: Path, courier: Courier) -> Iterator[Components]:
    upgrade(db_url)
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        database_url=db_url,
        staff_users=f"slack:{STAFF}",
        questions_channel="C0Q",
        secret_key="test-secret-key-0123456789",
        host="127.0.0.1",
        teams="off",
    )
    parts = build(settings, retriever=FakeRetriever())
    parts.core.delivery.register("slack", courier)
    yield parts
    parts.close()


@pytest.fixture
async def site(components: Components) -> AsyncIterator[str]:
    server = TestServer(build_web_app(components))
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def sign_in_link(components: Components, user: str = STAFF) -> str:
    from bot.messages import Incoming

    (reply,) = await components.core.handle(
        Incoming("slack", user, "D1", "", "insights", surface="command")
    )
    found = re.search(r"(/insights/signin\?token=[\w-]+)", reply.text)
    assert found, reply.text
    return found.group(1)


async def signed_in(session: aiohttp.ClientSession, site: str, components: Components) -> None:
    """Follow a sign-in link as a browser would: open it, press the button."""
    link = await sign_in_link(components)
    async with session.get(site + link) as r:
        page = await r.text()
    fields = dict(re.findall(r'name="(token|csrf)" value="([^"]+)"', page))
    async with session.post(site + "/insights/signin", data=fields, allow_redirects=False) as r:
        assert r.status == 303, await r.text()
