"""Slack adapter fixtures: a fake Web API, the real aiohttp app on a free port, signed requests."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.signature import SignatureVerifier

from bot.app import Components
from bot.core import Core
from bot.delivery import Address
from bot.delivery.pacing import ChannelPacer
from bot.flows.home import ideas_of
from bot.flows.idea_views import IdeaDeps
from bot.flows.ideas_wiring import install
from bot.flows.triage import ReviewDesk
from bot.records import Records, SqlRecords
from bot.server import build_web_app
from bot.slack.app import SlackFrontEnd
from ideas import Roles
from retrieval.embedder import FakeEmbedder
from store import Database
from store.migrate import upgrade
from store.runner import Runner
from tests.bot.fakes import FakeRetriever
from tests.slack.fake_slack import FakeSlack

SECRET = "test-signing-secret"


def signed(
    body: str, content_type: str, *, secret: str = SECRET, age: float = 0, retry: int | None = None
) -> dict[str, str]:
    """Headers Slack would send for ``body`` (``age`` seconds ago)."""
    ts = str(int(time.time() - age))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
    }
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


def event_body(event: dict[str, Any], event_id: str = "Ev01") -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
        }
    )


def mention(
    text: str,
    *,
    ts: str = "1700000000.000100",
    channel: str = "C1",
    user: str = "U1",
    thread_ts: str | None = None,
) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


@dataclass(frozen=True)
class Sent:
    """Slack's view of one request: the status, the body, and how long the ack took."""

    status: int
    text: str
    seconds: float


class Staffroom:
    """One running server (the real aiohttp app) and a client that signs what it sends."""

    def __init__(
        self, server: TestServer, session: aiohttp.ClientSession, components: Components
    ) -> None:
        self.server, self.session, self.components = server, session, components

    @property
    def url(self) -> str:
        return str(self.server.make_url("/slack/events"))

    async def post(self, body: str, content_type: str = "application/json", **sign: Any) -> Sent:
        headers = signed(body, content_type, **sign)
        started = time.perf_counter()
        async with self.session.post(self.url, data=body.encode(), headers=headers) as response:
            return Sent(response.status, await response.text(), time.perf_counter() - started)

    async def event(self, event: dict[str, Any], event_id: str = "Ev01", **sign: Any) -> Sent:
        return await self.post(event_body(event, event_id), **sign)

    async def form(self, fields: dict[str, str], **sign: Any) -> Sent:
        return await self.post(urlencode(fields), "application/x-www-form-urlencoded", **sign)

    async def interaction(self, payload: dict[str, Any], **sign: Any) -> Sent:
        return await self.form({"payload": json.dumps(payload)}, **sign)


StartServer = Callable[..., Any]


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def start_server(fake_slack: FakeSlack) -> AsyncIterator[StartServer]:
    """``await start_server(db_url, retriever)`` -> a running ``Staffroom``; all closed at the end."""
    running: list[tuple[TestServer, aiohttp.ClientSession, Components]] = []

    async def start(
        url: str,
        retriever: FakeRetriever | None = None,
        *,
        with_ideas: bool = False,
        records: Callable[[Database], Records] = SqlRecords,
    ) -> Staffroom:
        database = Database.from_url(url)
        upgrade(database.engine)
        core = Core(retriever or FakeRetriever(), records(database), max_question_chars=500)
        core.register_home_ideas(ideas_of(database))
        review = install_idea_flows(core, database) if with_ideas else None
        slack = SlackFrontEnd(
            core,
            signing_secret=SECRET,
            token="xoxb-test",
            api_url=fake_slack.api_url,
            # Scripts send dozens of messages to one DM; Slack's pacing is tested elsewhere.
            pacer=ChannelPacer(burst=10_000) if with_ideas else None,
        )
        components = Components(core=core, database=database, slack=slack, review=review)
        server = TestServer(build_web_app(components), host="127.0.0.1", port=0)
        await server.start_server()
        session = aiohttp.ClientSession()
        running.append((server, session, components))
        return Staffroom(server, session, components)

    yield start
    for server, session, components in running:
        await session.close()
        await server.close()
        components.close()


@pytest.fixture
async def staffroom(
    start_server: StartServer, sqlite_url: str, retriever_for_server: FakeRetriever
) -> Staffroom:
    return await start_server(sqlite_url, retriever_for_server)


@pytest.fixture
def retriever_for_server() -> FakeRetriever:
    return FakeRetriever()


STAFF, TEACHER, COLLEAGUE = "USTAFF", "UTEACH", "UCOLL"
REVIEW_CHANNEL, QUESTIONS_CHANNEL = "CREVIEW", "CQUEST"


def install_idea_flows(core: Core, database: Database) -> ReviewDesk:
    """The idea flows as ``bot.app.build`` wires them, with a fake embedder and staff USTAFF."""
    embedder = FakeEmbedder()
    deps = IdeaDeps(
        db=Runner(database),
        delivery=core.delivery,
        roles=Roles.parse(f"slack:{STAFF}"),
        retriever=core.retriever,
        embed=embedder.embed_documents,
        embed_model=embedder.name,
        review=Address("slack", REVIEW_CHANNEL),
        questions=Address("slack", QUESTIONS_CHANNEL),
        names=core.names,
    )
    return install(core, deps)
