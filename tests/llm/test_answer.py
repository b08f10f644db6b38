"""The extractive answer line, the daily token budget and the synthesizer factory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.settings import Settings
from retrieval.answer import ExtractiveAnswerer
from retrieval.llm_budget import DailyTokenBudget
from retrieval.llm_setup import build_synthesizer
from retrieval.types import Moment, SearchResponse, SessionMeta, SessionResult
from staffroom_errors import ConfigError
from tests.llm.conftest import response_of


async def test_extractive_answer_names_the_best_moment(response: SearchResponse) -> None:
    answer = await ExtractiveAnswerer().answer("q", response)
    assert answer is not None
    assert answer.text == "Best match: Exit tickets that drive tomorrow at 01:00"
    assert answer.citations[0].url == "https://video.example/s1#t=60"
    assert answer.usage_tokens == 0


def test_extractive_answer_for_documents_and_weak_matches() -> None:
    page = Moment(chunk_id="h.pdf#2", source="h.pdf", snippet="x", score=0.5, page=3)
    result = SessionResult(SessionMeta("s9", "Handout"), 0.5, (page,))
    assert ExtractiveAnswerer().compose(response_of(result)).text == "Best match: Handout (page 3)"
    assert ExtractiveAnswerer().compose(response_of(result, good=False)) is None
    assert ExtractiveAnswerer().compose(response_of()) is None


def test_daily_budget_resets_at_utc_midnight() -> None:
    # 23:30 in UTC-5 is already the next UTC day.
    now = [datetime(2026, 3, 2, 18, 0, tzinfo=timezone(timedelta(hours=-5)))]
    budget = DailyTokenBudget(100, clock=lambda: now[0])
    budget.spend(70)
    budget.spend(50)
    assert budget.remaining() == 0
    now[0] = datetime(2026, 3, 2, 23, 59, tzinfo=UTC)
    assert budget.remaining() == 0
    now[0] = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    assert budget.remaining() == 100


def test_zero_limit_is_unlimited() -> None:
    budget = DailyTokenBudget(0)
    budget.spend(10**9)
    assert budget.remaining() is None


def test_no_key_builds_no_synthesizer() -> None:
    assert build_synthesizer(Settings(openai_api_key="")) is None
    assert build_synthesizer(Settings(openai_api_key="   ")) is None


async def test_key_builds_an_openai_synthesizer_with_the_settings() -> None:
    synth = build_synthesizer(
        Settings(
            openai_api_key="sk-x",
            openai_base_url="http://127.0.0.1:8000/v1",
            llm_model="qwen2.5",
            llm_timeout=3.0,
            llm_daily_tokens=10,
        )
    )
    assert synth is not None
    assert (synth.model, synth.timeout) == ("qwen2.5", 3.0)
    await synth.aclose()


@pytest.mark.parametrize(
    "fields",
    [{"openai_base_url": "localhost:8000"}, {"llm_timeout": 0}, {"llm_daily_tokens": -1}],
)
def test_unusable_llm_settings_are_config_errors(fields: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        build_synthesizer(Settings(openai_api_key="sk-x", **fields))
