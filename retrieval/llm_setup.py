"""Which synthesizer writes grounded answers: the OpenAI one when a key is configured, else none.

Kept apart from ``llm_openai`` so that deciding costs nothing: the openai import is slow, and it
happens only when a key is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from retrieval.llm_budget import DailyTokenBudget, TokenBudget
from staffroom_errors import ConfigError

if TYPE_CHECKING:
    from retrieval.llm_openai import OpenAISynthesizer


class LLMSettings(Protocol):
    """The fields of ``bot.settings.Settings`` the synthesizer needs (retrieval cannot import bot)."""

    openai_api_key: str
    openai_base_url: str
    llm_model: str
    llm_timeout: float
    llm_daily_tokens: int


def build_synthesizer(
    settings: LLMSettings, *, budget: TokenBudget | None = None
) -> OpenAISynthesizer | None:
    """The OpenAI synthesizer when a key is configured, else ``None`` (answers stay extractive).

    ``budget`` defaults to an in-memory daily allowance of ``llm_daily_tokens``.
    """
    key = settings.openai_api_key.strip()
    if not key:
        return None
    base_url = settings.openai_base_url.strip()
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"OPENAI_BASE_URL must be an http(s) URL, got {base_url!r}.",
            hint="For example https://my-server:8000/v1 for vLLM or http://localhost:11434/v1 "
            "for Ollama.",
        )
    if settings.llm_timeout <= 0:
        raise ConfigError("STAFFROOM_LLM_TIMEOUT must be more than 0 seconds.")
    if settings.llm_daily_tokens < 0:
        raise ConfigError("STAFFROOM_LLM_DAILY_TOKENS must be 0 (unlimited) or more.")
    from retrieval.llm_openai import OpenAISynthesizer  # the openai import is slow: keep it lazy

    return OpenAISynthesizer(
        key,
        base_url=base_url or None,
        model=settings.llm_model,
        timeout=settings.llm_timeout,
        budget=budget if budget is not None else DailyTokenBudget(settings.llm_daily_tokens),
    )
