"""The synthesizer's daily token budget, kept in the database so restarts and replicas share it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime

from store import Database, add_llm_usage, llm_tokens_on, utcnow

log = logging.getLogger(__name__)


class DatabaseTokenBudget:
    """``retrieval.llm_budget.TokenBudget`` over the ``llm_usage`` table (UTC days).

    ``limit`` 0 means unlimited (usage is still recorded). When the database cannot be read the
    budget counts as spent: an unreachable database must not mean unmetered spending.
    """

    def __init__(
        self, database: Database, limit: int, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._database = database
        self._limit = max(0, limit)
        self._clock = clock

    def _today(self) -> date:
        return self._clock().astimezone(UTC).date()

    def remaining(self) -> int | None:
        if self._limit == 0:
            return None
        try:
            with self._database.session() as s:
                spent = llm_tokens_on(s, self._today())
        except Exception:
            log.exception("could not read today's LLM token usage; skipping synthesis")
            return 0
        return max(0, self._limit - spent)

    def spend(self, tokens: int) -> None:
        if tokens <= 0:
            return
        day = self._today()
        try:
            with self._database.session() as s:
                add_llm_usage(s, day, tokens)
                spent = llm_tokens_on(s, day)
        except Exception:
            log.exception("could not record %s LLM tokens", tokens)
            return
        log.info(
            "llm tokens spent: %s (today %s of %s)",
            tokens,
            spent,
            self._limit or "unlimited",
            extra={"event": "llm_tokens", "tokens": tokens, "today": spent},
        )
