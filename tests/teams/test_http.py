"""Bad bodies (4xx before botbuilder parses) and authentication (401 before anything runs)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.teams.auth import BotConfig
from store import Database, ProcessedEvent
from tests.teams.conftest import execute, personal_message
from tests.teams.keys import ISSUER, KeyServer, new_key, token

APP_ID = "app-123"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('{"text": "no type"}', "application/json", 400),
        ('{"type": ""}', "application/json", 400),
        ('{"type": "message", "from": "me"}', "application/json", 400),
        ('{"type": "message", "serviceUrl": "file:///etc/passwd"}', "application/json", 400),
        (b"\xff\xfe".decode("latin-1"), "application/json", 400),
        ('{"type": "message"}', "text/plain", 415),
    ],
)
async def test_bodies_botbuilder_cannot_parse_are_refused_with_a_reason(
    teams, body, content_type, status
):
    sent = await teams.post(body, content_type=content_type)
    assert sent.status == status
    assert "error" in sent.json()


def _claims(url: str) -> int:
    db = Database.from_url(url)
    try:
        with db.session() as s:
            return len(s.scalars(sa.select(ProcessedEvent)).all())
    finally:
        db.dispose()


@pytest.fixture
def keys() -> Iterator[tuple[KeyServer, object]]:
    key = new_key()
    server = KeyServer(key)
    yield server, key
    server.close()


@pytest.fixture
async def secured(start_teams, sqlite_url, retriever_for_server, keys):
    server, _ = keys
    config = BotConfig(
        APP_ID=APP_ID,
        APP_PASSWORD="secret",
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=server.url + "/openid",
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=ISSUER,
    )
    return await start_teams(sqlite_url, retriever_for_server, config=config)


async def test_with_an_app_id_a_request_without_a_token_is_refused_and_nothing_runs(
    secured, connector, sqlite_url, retriever_for_server
):
    sent = await secured.post(personal_message(connector.url, "exit tickets"))
    assert sent.status == 401
    assert _claims(sqlite_url) == 0 and retriever_for_server.queries == []


@pytest.mark.parametrize(
    "header", ["Bearer garbage", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer", "garbage"]
)
async def test_garbage_tokens_are_refused(secured, connector, sqlite_url, header):
    sent = await secured.post(personal_message(connector.url, "exit tickets"), token=header)
    assert sent.status == 401
    assert _claims(sqlite_url) == 0


async def test_tokens_signed_by_another_key_or_for_another_bot_are_refused(
    secured, connector, sqlite_url, keys
):
    _, key = keys
    activity = personal_message(connector.url, "exit tickets")
    forged = token(new_key(), audience=APP_ID, service_url=connector.url)
    wrong_bot = token(key, audience="someone-else", service_url=connector.url)
    wrong_url = token(key, audience=APP_ID, service_url="https://evil.example/")
    expired = token(key, audience=APP_ID, service_url=connector.url, exp=1_000_000_000)
    for header in (forged, wrong_bot, wrong_url, expired):
        assert (await secured.post(activity, token=header)).status == 401
    assert _claims(sqlite_url) == 0


async def test_a_valid_token_lets_the_activity_run(secured, connector, keys):
    _, key = keys
    click = execute(connector.url, "feedback_helpful", {"value": "424242"}, reply_to="1")
    header = token(key, audience=APP_ID, service_url=connector.url)
    sent = await secured.post(click, token=header)
    assert sent.status == 200
    assert "can't find that answer" in json.dumps(sent.json()["value"])
