"""With an API key, the bot lets the LLM rewrite follow-ups (wired by ``bot.app.build``); a
failing model leaves the rule-based follow-up, and first turns never reach the model."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from bot.app import build
from bot.messages import Incoming
from bot.settings import Settings
from retrieval.embedder import FakeEmbedder
from retrieval.search import Searcher
from store import Question
from tests.llm.fake_openai import FakeOpenAI, Script

DM = Incoming("slack", "U1", "D1", "", "", surface="dm", private=True)
FIRST = "how do I sort exit tickets into piles"


async def test_follow_ups_are_rewritten_by_the_model_or_merged_by_the_rules(
    fake_openai: FakeOpenAI, build_index, tmp_path, monkeypatch
) -> None:
    root, _ = build_index()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    components = build(settings, retriever=Searcher(root.path, FakeEmbedder()))
    assert components.rewriter is not None
    fake_openai.script(
        Script("exit tickets for first graders who can't write yet"), Script(status=500)
    )
    try:
        for text in (FIRST, "what about for 1st graders?", "does that work online?"):
            await components.core.handle(replace(DM, text=text))
    finally:
        await components.aclose()
        components.close()
    assert len(fake_openai.requests) == 2  # the first turn never reaches the model
    assert components.database is not None
    with components.database.session() as s:
        asked = list(s.scalars(sa.select(Question.text).order_by(Question.id)))
    assert asked == [
        FIRST,
        "exit tickets for first graders who can't write yet",  # the model's standalone question
        "exit tickets for first graders who can't write yet does that work online",  # the rules
    ]
