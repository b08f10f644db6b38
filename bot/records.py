"""What the conversation core remembers: processed events, questions, feedback, gaps, state.

The core talks to the small Protocols below; ``SqlRecords`` implements them on the ``store``
helpers (SQLite or PostgreSQL). Calls are synchronous and short: the core runs them in a worker
thread so the event loop keeps acknowledging platform requests. Each call is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import store
from staffroom_errors import InputError

if TYPE_CHECKING:
    from store import Database, OpenEvent

MAX_ATTEMPTS = 3  # a claimed message is tried by its replica and taken over at most twice


@dataclass(frozen=True)
class UserState:
    """Where one user is in a multi-turn flow; ``flow`` is "" when none is active."""

    platform: str
    user_id: str
    flow: str = ""
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QuestionEntry:
    """A question as asked and answered, for the insight log."""

    platform: str
    user_id: str
    channel_id: str
    thread_id: str
    text: str
    good_match: bool
    top_score: float | None
    results: list[dict[str, Any]]
    index_version: str = ""
    latency_ms: int = 0


class EventLedger(Protocol):
    def claim_event(
        self,
        key: str,
        platform: str,
        *,
        holder: str = "",
        work: dict[str, Any] | None = None,
        lease_seconds: float = 30.0,
    ) -> bool:
        """True the first time ``key`` is seen by any process sharing the database.

        With ``work`` the claim stays open, leased to ``holder``, until ``finish_event``.
        """
        ...

    def finish_event(self, key: str, result: dict[str, Any] | None = None) -> None:
        """The claimed delivery is done: nobody needs to take it over; ``result`` is kept."""
        ...

    def delivered(self, key: str) -> dict[str, Any] | None:
        """The ``result`` a done delivery kept; None when open, unknown or none was kept."""
        ...

    def take_stale_events(
        self, holder: str, platforms: Sequence[str], *, lease_seconds: float = 30.0
    ) -> list[OpenEvent]:
        """Open claims whose lease ran out, now leased to ``holder``."""
        ...

    def forget_events(self, older_than: timedelta) -> int:
        """Drop claims older than ``older_than`` (platforms retry for minutes, not days)."""
        ...


class QuestionLog(Protocol):
    def log_question(self, entry: QuestionEntry) -> int:
        """Store the question (and a content gap when it had no good match); return its id."""
        ...

    def attach_reply(self, question_id: int, reply_ref: str) -> None:
        """Remember where the answer was posted (e.g. "C123:1700000000.0001")."""
        ...


class FeedbackLog(Protocol):
    def record_feedback(self, question_id: int, platform: str, user_id: str, helpful: bool) -> None:
        """One vote per user and question; voting again changes the vote."""
        ...


class StateStore(Protocol):
    def load_state(self, platform: str, user_id: str) -> UserState: ...

    def save_state(self, state: UserState) -> None: ...


class Records(EventLedger, QuestionLog, FeedbackLog, StateStore, Protocol):
    """Everything the core persists."""


class SqlRecords:
    """``Records`` on the store's helpers; each call is one transaction (``Database.session``).

    ``clock`` dates claims and leases (tests move it instead of waiting for leases to run out).
    """

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = store.utcnow) -> None:
        self._db = db
        self._clock = clock

    def claim_event(
        self,
        key: str,
        platform: str,
        *,
        holder: str = "",
        work: dict[str, Any] | None = None,
        lease_seconds: float = 30.0,
    ) -> bool:
        with self._db.session() as s:
            return store.claim_event(
                s,
                key[:255],
                platform,
                holder=holder[:255],
                work=work,
                lease=timedelta(seconds=lease_seconds),
                now=self._clock(),
            )

    def finish_event(self, key: str, result: dict[str, Any] | None = None) -> None:
        with self._db.session() as s:
            store.finish_event(s, key[:255], result)

    def delivered(self, key: str) -> dict[str, Any] | None:
        with self._db.session() as s:
            return store.event_result(s, key[:255])

    def take_stale_events(
        self, holder: str, platforms: Sequence[str], *, lease_seconds: float = 30.0
    ) -> list[OpenEvent]:
        with self._db.session() as s:
            return store.take_stale_events(
                s,
                holder[:255],
                platforms=platforms,
                lease=timedelta(seconds=lease_seconds),
                max_attempts=MAX_ATTEMPTS,
                now=self._clock(),
            )

    def forget_events(self, older_than: timedelta) -> int:
        with self._db.session() as s:
            return store.prune_events(s, self._clock() - older_than)

    def log_question(self, entry: QuestionEntry) -> int:
        with self._db.session() as s:
            question = store.log_question(
                s,
                platform=entry.platform,
                user_id=entry.user_id,
                text=entry.text,
                good_match=entry.good_match,
                top_score=entry.top_score,
                results=entry.results,
                latency_ms=entry.latency_ms,
                index_version=entry.index_version,
                channel_id=entry.channel_id or None,
                thread_id=entry.thread_id or None,
            )
            if not entry.good_match:
                store.record_gap(s, question.id, entry.text)
            return int(question.id)

    def attach_reply(self, question_id: int, reply_ref: str) -> None:
        with self._db.session() as s:
            store.set_reply_ref(s, question_id, reply_ref[:255])

    def record_feedback(self, question_id: int, platform: str, user_id: str, helpful: bool) -> None:
        with self._db.session() as s:
            if store.get_question(s, question_id) is None:
                raise InputError(
                    "I can't find that answer any more, so I couldn't record your vote."
                )
            store.record_feedback(s, question_id, platform, user_id, helpful)

    def load_state(self, platform: str, user_id: str) -> UserState:
        with self._db.session() as s:
            row = store.get_state(s, platform, user_id)
            if row is None:
                return UserState(platform, user_id)
            return UserState(
                platform, user_id, row.flow or "", row.step or "", dict(row.data or {})
            )

    def save_state(self, state: UserState) -> None:
        with self._db.session() as s:
            if not (state.flow or state.step or state.data):
                store.clear_state(s, state.platform, state.user_id)
                return
            store.save_state(
                s,
                state.platform,
                state.user_id,
                flow=state.flow or None,
                step=state.step or None,
                data=state.data,
            )
