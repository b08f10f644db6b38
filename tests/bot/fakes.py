"""Fakes for the conversation core: canned search responses, a retriever that can stall or fail."""

from __future__ import annotations

import threading
from collections.abc import Callable

from retrieval.types import Filters, Moment, SearchResponse, SessionMeta, SessionResult
from staffroom_errors import RetrievalError

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
