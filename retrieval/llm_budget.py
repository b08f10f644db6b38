"""How many LLM tokens the synthesizer may still spend today."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Protocol


class TokenBudget(Protocol):
    """A spendable token allowance; the bot provides a database-backed one shared by workers."""

    def remaining(self) -> int | None:
        """Tokens left now; ``None`` means unlimited."""
        ...

    def spend(self, tokens: int) -> None:
        """Record tokens used by one answer."""
        ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DailyTokenBudget:
    """In-memory allowance of ``limit`` tokens per UTC day (``limit`` 0 = unlimited)."""

    def __init__(self, limit: int, *, clock: Callable[[], datetime] = _utc_now) -> None:
        if limit < 0:
            raise ValueError("limit must be >= 0")
        self._limit = limit
        self._clock = clock
        self._day: date = self._today()
        self._spent = 0

    def _today(self) -> date:
        return self._clock().astimezone(UTC).date()

    def _roll(self) -> None:
        today = self._today()
        if today != self._day:
            self._day, self._spent = today, 0

    def remaining(self) -> int | None:
        if self._limit == 0:
            return None
        self._roll()
        return max(0, self._limit - self._spent)

    def spend(self, tokens: int) -> None:
        self._roll()
        self._spent += max(0, tokens)

    @property
    def spent_today(self) -> int:
        self._roll()
        return self._spent
