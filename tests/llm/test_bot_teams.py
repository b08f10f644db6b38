"""Teams through ``bot.app.build``: the answer card first, then one update with the grounded
answer and its citations (the fake Bot Connector and the scripted OpenAI server, real HTTP)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import build
from bot.server import build_web_app
from bot.settings import Settings
from tests.bot.fakes import FakeRetriever
from tests.llm.fake_openai import FakeOpenAI, Script
from tests.teams.conftest import PERSONAL, personal_message
from tests.teams.fake_connector import FakeConnector


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.close()


async def test_teams_updates_the_answer_card_with_the_grounded_answer(
    connector: FakeConnector, fake_openai: FakeOpenAI, sqlite_url: str, tmp_path, monkeypatch
) -> None:
    fake_openai.script(Script("Sort exit tickets into three piles [1]. Invented [7]."))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        database_url=sqlite_url,
        teams="on",  # no app id: the no-auth local mode the fake connector expects
        teams_service_url=connector.url,
    )
    components = build(settings, retriever=FakeRetriever())
    server = TestServer(build_web_app(components), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            body = json.dumps(personal_message(connector.url, "exit tickets"))
            url = server.make_url("/api/messages")
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}):
                pass
            await connector.wait_for(lambda c: len(c.of("update")) == 1)
    finally:
        await server.close()
        assert components.teams is not None
        await components.teams.close()
        await components.aclose()
        components.close()

    [post] = connector.posts()
    assert post.card["body"][0]["text"].startswith("Start with")  # the extractive answer first
    [update] = connector.of("update")
    assert update.conversation == PERSONAL and update.activity_id == post.posted_id
    texts = [b.get("text", "") for b in update.card["body"]]
    assert texts[0] == r"Sort exit tickets into three piles \[1\]."
    assert texts[1] == r"\[1\] “Exit Tickets That Drive Tomorrow's Lesson” ▶ 12:30"
    assert "Invented" not in json.dumps(update.body)
    assert [a["verb"] for a in update.card["actions"]] == [
        "feedback_helpful",
        "feedback_not_helpful",
        "staffroom_say",  # I'll try this (follow-through) stays on the grounded answer
    ]
