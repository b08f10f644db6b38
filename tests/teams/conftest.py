"""Teams adapter fixtures: a fake Bot Connector, the real aiohttp app on a free port, activities.

Activities follow the shapes Bot Framework documents for Teams (personal chat, channel message
with a mention entity, conversationUpdate, ``adaptiveCard/action`` invoke).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import Components
from bot.core import Core
from bot.delivery import Address
from bot.delivery.contacts import Contacts
from bot.flows.idea_views import IdeaDeps
from bot.flows.ideas_wiring import install
from bot.flows.triage import ReviewDesk
from bot.records import Records, SqlRecords
from bot.server import build_web_app
from bot.teams.app import TeamsFrontEnd
from bot.teams.auth import BotConfig, authentication
from bot.teams.courier import TeamsCourier
from ideas import Roles
from retrieval.embedder import FakeEmbedder
from store import Database
from store.migrate import upgrade
from store.runner import Runner
from tests.bot.fakes import FakeRetriever
from tests.teams.fake_connector import FakeConnector

BOT = {"id": "28:bot-app-id", "name": "Staffroom"}
REVIEW = "19:review@thread.tacv2"
QUESTIONS = "19:questions@thread.tacv2"
# The idea scripts' people: (sender, their personal chat with Staffroom)
PEOPLE = {
    name: (
        {"id": f"29:1{name}", "name": name.title(), "aadObjectId": f"aad-{name}"},
        f"a:1chat-{name}",
    )
    for name in ("teacher", "colleague", "staff")
}
ANN = {"id": "29:1ann", "name": "Ann Lee", "aadObjectId": "aad-ann"}
BEN = {"id": "29:1ben", "name": "Ben Ode", "aadObjectId": "aad-ben"}
TENANT = "tenant-1"
CHANNEL = "19:general@thread.tacv2"
PERSONAL = "a:1personal-ann"
_ids = itertools.count(1_700_000_000_001)


def _base(service_url: str, sender: dict[str, Any], conversation: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(next(_ids)),
        "timestamp": "2024-09-12T15:00:00.000Z",
        "localTimestamp": "2024-09-12T08:00:00.000-07:00",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender,
        "conversation": {"tenantId": TENANT, **conversation},
        "recipient": BOT,
        "locale": "en-US",
        "channelData": {"tenant": {"id": TENANT}},
    }


def personal_message(
    service_url: str, text: str, sender: dict[str, Any] = ANN, conversation_id: str = PERSONAL
) -> dict[str, Any]:
    conversation = {"conversationType": "personal", "id": conversation_id}
    return {
        **_base(service_url, sender, conversation),
        "type": "message",
        "text": text,
        "textFormat": "plain",
        "entities": [{"type": "clientInfo", "locale": "en-US"}],
    }


def channel_mention(
    service_url: str, text: str, *, root: str | None = None, sender: dict[str, Any] = ANN
) -> dict[str, Any]:
    """A channel post "@Staffroom <text>"; a reply in the thread of ``root`` when given."""
    activity = _base(service_url, sender, {})
    thread = root or activity["id"]
    activity["conversation"].update(
        {"isGroup": True, "conversationType": "channel", "id": f"{CHANNEL};messageid={thread}"}
    )
    activity.update(
        type="message",
        text=f"<at>Staffroom</at> {text}",
        textFormat="plain",
        entities=[{"type": "mention", "text": "<at>Staffroom</at>", "mentioned": BOT}],
        channelData={
            "teamsChannelId": CHANNEL,
            "teamsTeamId": "19:team@thread.tacv2",
            "channel": {"id": CHANNEL},
            "team": {"id": "19:team@thread.tacv2"},
            "tenant": {"id": TENANT},
        },
    )
    if root:
        activity["replyToId"] = root
    return activity


def members_added(service_url: str, *members: dict[str, Any]) -> dict[str, Any]:
    conversation = {"conversationType": "personal", "id": PERSONAL}
    return {
        **_base(service_url, ANN, conversation),
        "type": "conversationUpdate",
        "membersAdded": list(members),
    }


def execute(
    service_url: str,
    verb: str,
    data: dict[str, Any],
    *,
    reply_to: str,
    sender: dict[str, Any] = ANN,
    conversation: str = PERSONAL,
) -> dict[str, Any]:
    """An ``Action.Execute`` click on the card posted as activity ``reply_to``."""
    kind = "personal" if conversation.startswith("a:") else "channel"
    activity = _base(service_url, sender, {"conversationType": kind, "id": conversation})
    activity.update(
        type="invoke",
        name="adaptiveCard/action",
        replyToId=reply_to,
        value={
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual",
        },
    )
    return activity


@dataclass(frozen=True)
class Sent:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class Staffroom:
    """One running server (the real aiohttp app) and a client posting activities to it."""

    def __init__(
        self,
        server: TestServer,
        session: aiohttp.ClientSession,
        components: Components,
        connector: FakeConnector,
    ) -> None:
        self.server, self.session, self.components = server, session, components
        self.connector = connector

    @property
    def front(self) -> TeamsFrontEnd:
        assert self.components.teams is not None
        return self.components.teams

    async def post(
        self,
        body: str | dict[str, Any],
        *,
        content_type: str = "application/json",
        token: str | None = None,
    ) -> Sent:
        data = body if isinstance(body, str) else json.dumps(body)
        headers = {"Content-Type": content_type}
        if token is not None:
            headers["Authorization"] = token
        url = self.server.make_url("/api/messages")
        async with self.session.post(url, data=data.encode(), headers=headers) as response:
            return Sent(response.status, await response.text())

    async def message(self, text: str, **kw: Any) -> Sent:
        return await self.post(personal_message(self.connector.url, text, **kw))


StartServer = Callable[..., Any]


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def start_teams(connector: FakeConnector) -> AsyncIterator[StartServer]:
    """``await start_teams(db_url, retriever, config=..., records=...)`` -> a running server."""
    running: list[tuple[TestServer, aiohttp.ClientSession, Components]] = []

    async def start(
        url: str,
        retriever: FakeRetriever | None = None,
        *,
        config: BotConfig | None = None,
        records: Callable[[Database], Records] = SqlRecords,
        invoke_budget: float = 4.0,
        with_ideas: bool = False,
    ) -> Staffroom:
        database = Database.from_url(url)
        upgrade(database.engine)
        core = Core(retriever or FakeRetriever(), records(database), max_question_chars=500)
        config = config or BotConfig()
        auth = authentication(config)
        contacts = Contacts(database, "teams")
        teams = TeamsFrontEnd(
            core,
            auth,
            app_id=config.APP_ID,
            contacts=contacts,
            service_url=connector.url,
            invoke_budget=invoke_budget,
            courier=TeamsCourier(auth, config.APP_ID, contacts, connector.url, backoff=0.01),
        )
        review = install_idea_flows(core, database) if with_ideas else None
        components = Components(core=core, database=database, teams=teams, review=review)
        server = TestServer(build_web_app(components), host="127.0.0.1", port=0)
        await server.start_server()
        session = aiohttp.ClientSession()
        running.append((server, session, components))
        return Staffroom(server, session, components, connector)

    yield start
    for server, session, components in running:
        await session.close()
        await server.close()
        if components.teams is not None:
            await components.teams.close()
        components.close()


@pytest.fixture
def retriever_for_server() -> FakeRetriever:
    return FakeRetriever()


@pytest.fixture
async def teams(
    start_teams: StartServer, sqlite_url: str, retriever_for_server: FakeRetriever
) -> Staffroom:
    return await start_teams(sqlite_url, retriever_for_server)


def install_idea_flows(core: Core, database: Database) -> ReviewDesk:
    """The idea flows as ``bot.app.build`` wires them, reviewing in REVIEW, staff = "staff"."""
    embedder = FakeEmbedder()
    deps = IdeaDeps(
        db=Runner(database),
        delivery=core.delivery,
        roles=Roles.parse("teams:aad-staff"),
        retriever=core.retriever,  # the same canned sessions
        embed=embedder.embed_documents,
        embed_model=embedder.name,
        review=Address("teams", REVIEW),
        questions=Address("teams", QUESTIONS),
        names=core.names,
    )
    return install(core, deps)
