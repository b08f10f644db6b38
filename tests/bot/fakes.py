"""Fakes for the conversation core: canned search responses, a retriever that can stall or fail."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.delivery import Address, Delivered, MessageRef
from bot.messages import Reply
from retrieval.answer import Citation
from retrieval.types import (
    Filters,
    IndexInfo,
    Moment,
    SearchResponse,
    SessionMeta,
    SessionResult,
)
from staffroom_errors import RetrievalError
from store.base import utcnow

SESSIONS = (
    SessionMeta(
        "exit-tickets",
        "Exit Tickets That Drive Tomorrow's Lesson",
        presenter="Maya Chen",
        date="2024-09-12",
        url="https://video.example/exit-tickets",
        grade_bands=("6-8",),
        subjects=("Math",),
    ),
    SessionMeta(
        "wait-time",
        "Wait Time & Questioning",
        presenter="Luis Ortega",
        date="2024-10-01",
        url="https://video.example/wait-time",
        grade_bands=("K-5",),
        subjects=("ELA",),
    ),
    SessionMeta("circles", "Restorative Circles", presenter="Ana Diaz", date="2023-05-02"),
)


def canned(query: str, *, good: bool = True, count: int = 2) -> SearchResponse:
    """A response whose sessions each have a timed best moment (12:30–15:10 for the first)."""
    results = tuple(
        SessionResult(
            session=meta,
            score=0.8 - 0.1 * n,
            moments=(
                Moment(
                    chunk_id=f"{meta.session_id}.vtt#3",
                    source=f"{meta.session_id}/{meta.session_id}.vtt",
                    snippet=f"Snippet {n}: sort the tickets into three piles <b>fast</b>.",
                    score=0.8 - 0.1 * n,
                    start=750.0 + 60 * n,
                    end=910.0 + 60 * n,
                ),
            ),
        )
        for n, meta in enumerate(SESSIONS[:count])
    )
    return SearchResponse(query, results, good, 0.35, index_version="v1")


class FakeRetriever:
    """Answers ``canned`` responses; can be gated (stall until released) or made to fail."""

    def __init__(self, respond: Callable[[str], SearchResponse] = canned) -> None:
        self._respond = respond
        self.queries: list[str] = []
        self.gate: threading.Event | None = None
        self.started = threading.Event()
        self.error: Exception | None = None

    def stall(self) -> threading.Event:
        """Make searches block until the returned event is set."""
        self.gate = threading.Event()
        return self.gate

    def sessions(self) -> tuple[SessionMeta, ...]:
        return SESSIONS

    def info(self) -> IndexInfo:
        return IndexInfo("v1", "", sessions=len(SESSIONS), chunks=len(SESSIONS), files=1)

    def search(self, query: str, *, k: int = 5, filters: Filters | None = None) -> SearchResponse:
        self.queries.append(query)
        self.started.set()
        if self.gate is not None and not self.gate.wait(timeout=30):
            raise RuntimeError("test gate never opened")
        if self.error is not None:
            raise self.error
        return self._respond(query)


def failing_retriever(error: Exception | None = None) -> FakeRetriever:
    retriever = FakeRetriever()
    retriever.error = error or RetrievalError("The search index could not be read.")
    return retriever


class HeldLedger:
    """``SqlRecords`` whose ``claim_event`` waits for ``release`` (a slow database write).

    Shows what a front-end does before acknowledging: if the ack waits, the claim came first.
    """

    def __init__(self, db: Any) -> None:
        from bot.records import SqlRecords

        self._inner = SqlRecords(db)
        self.release = threading.Event()
        self.claiming = threading.Event()  # a claim is waiting for ``release``
        self.claims: list[str] = []

    def claim_event(self, key: str, platform: str, **kwargs: Any) -> bool:
        self.claiming.set()
        assert self.release.wait(timeout=30), "test never released the ledger"
        self.claims.append(key)
        return self._inner.claim_event(key, platform, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def wait_for_status(db: Any, key: str, status: str, timeout: float = 10.0) -> None:
    """Wait until the claim ``key`` has ``status`` (its front-end marks it after posting)."""
    import asyncio

    from store import ProcessedEvent

    deadline = time.monotonic() + timeout
    while True:
        with db.session() as s:
            row = s.get(ProcessedEvent, key)
            if row is not None and row.status == status:
                return
        assert time.monotonic() < deadline, f"{key} never became {status}"
        await asyncio.sleep(0.05)


class RecordingCourier:
    def __init__(self) -> None:
        self.sent: list[tuple[Address, Reply]] = []
        self.updated: list[tuple[MessageRef, Reply]] = []

    async def send(self, to: Address, reply: Reply) -> Delivered:
        self.sent.append((to, reply))
        where = to.conversation_id or to.user_id
        return Delivered(ref=MessageRef(to.platform, where, f"{len(self.sent)}.0"))

    async def update(
        self, ref: MessageRef, reply: Reply, citations: Sequence[Citation] = ()
    ) -> Delivered:
        self.updated.append((ref, reply))
        return Delivered(ref=ref)

    def streams(self, ref: MessageRef) -> bool:
        return False


class Clock:
    """The time the delivery ledger sees; tests move it instead of waiting for leases."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def replica(db: Any, lease: float = 0.2, clock: Clock | None = None) -> tuple[Any, RecordingCourier]:
    """A core whose delivery ledger runs on ``clock``, delivering to Slack through a recorder."""
    from bot.core import Core
    from bot.records import SqlRecords

    core = Core(FakeRetriever(), SqlRecords(db, clock=clock or Clock()), answer_lease=lease)
    courier = RecordingCourier()
    core.delivery.register("slack", courier)
    return core, courier
