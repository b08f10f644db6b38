"""LLM token usage per UTC day, shared by every replica (the synthesizer's daily budget)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, utcnow
from store.upsert import insert_ignore


class LLMUsage(Base):
    """Tokens spent on synthesized answers on one UTC day, and how many calls spent them."""

    __tablename__ = "llm_usage"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    tokens: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    calls: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def add_llm_usage(s: Session, day: date, tokens: int) -> None:
    """Add ``tokens`` (one call) to ``day``'s total; never loses a concurrent writer's tokens."""
    now = utcnow()
    insert_ignore(s, LLMUsage, {"day": day, "tokens": 0, "calls": 0, "updated_at": now}, ["day"])
    # One UPDATE adding to the stored value: two replicas spending at once both count.
    s.execute(
        sa.update(LLMUsage)
        .where(LLMUsage.day == day)
        .values(tokens=LLMUsage.tokens + tokens, calls=LLMUsage.calls + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def llm_tokens_on(s: Session, day: date) -> int:
    """Tokens spent on ``day`` (0 when nothing was spent)."""
    return int(s.scalar(sa.select(LLMUsage.tokens).where(LLMUsage.day == day)) or 0)
