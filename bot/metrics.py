"""Prometheus metrics at ``/metrics``: questions, answer latency, no-match rate, ideas, re-indexes.

Question metrics come from ``MeteredRecords``, a wrapper around the core's ``Records`` that
counts each question as it is logged, so the core's code knows nothing about Prometheus. Ideas
by status and re-index runs by outcome are read from the shared database on each scrape: every
replica reports the same numbers (aggregate them with ``max``, not ``sum``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from bot.records import QuestionEntry, Records, UserState
    from store import Database, OpenEvent

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
IDEA_STATUSES = ("new", "under_review", "piloting", "scaling", "adopted", "declined", "duplicate")
RUN_OUTCOMES = ("running", "succeeded", "failed")


class Metrics:
    """One registry per server (tests run several servers in one process)."""

    def __init__(self, database: Database | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.questions = Counter(
            "staffroom_questions", "Questions answered.", ["platform"], registry=r
        )
        self.no_match = Counter(
            "staffroom_no_match",
            "Questions the library had no good match for (content gaps).",
            ["platform"],
            registry=r,
        )
        self.latency = Histogram(
            "staffroom_answer_latency_seconds",
            "Seconds from a question to its answer being ready (search and ranking).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        ratio = Gauge(
            "staffroom_no_match_ratio",
            "Share of this process's questions that had no good match (0 before any).",
            registry=r,
        )
        ratio.set_function(self._no_match_ratio)
        if database is not None:
            r.register(DatabaseCollector(database))

    def question(self, entry: QuestionEntry) -> None:
        self.questions.labels(entry.platform).inc()
        self.latency.observe(entry.latency_ms / 1000)
        if not entry.good_match:
            self.no_match.labels(entry.platform).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def handle_http(self, request: web.Request) -> web.Response:
        """``GET /metrics`` in the Prometheus text format (database reads off the event loop)."""
        body = await asyncio.to_thread(self.render)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def _no_match_ratio(self) -> float:
        asked = _total(self.questions)
        return _total(self.no_match) / asked if asked else 0.0


def _total(counter: Counter) -> float:
    return sum(
        s.value for metric in counter.collect() for s in metric.samples if s.name.endswith("_total")
    )


class DatabaseCollector(Collector):
    """Ideas by status and re-index runs by outcome, counted in the database on each scrape."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def describe(self) -> list[Metric]:
        return []  # computed on scrape: nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        from store import Idea, ReindexRun

        up = GaugeMetricFamily(
            "staffroom_database_up", "1 when the last scrape could read the database."
        )
        try:
            with self._database.session() as s:
                by_status = _counts(s, Idea.status)
                by_outcome = _counts(s, ReindexRun.status)
        except Exception:
            log.warning("metrics: the database could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _family("staffroom_ideas", "Ideas by status.", "status", IDEA_STATUSES, by_status)
        yield _family(
            "staffroom_reindex_runs",
            "Re-index runs by outcome (from chat and the CLI, on every replica).",
            "outcome",
            RUN_OUTCOMES,
            by_outcome,
        )


def _counts(s: sa.orm.Session, column: sa.orm.InstrumentedAttribute[str]) -> dict[str, int]:
    rows = s.execute(sa.select(column, sa.func.count()).group_by(column))
    return {str(key): int(n) for key, n in rows}


def _family(
    name: str, doc: str, label: str, known: tuple[str, ...], counts: dict[str, int]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key in dict.fromkeys([*known, *sorted(counts)]):
        family.add_metric([key], counts.get(key, 0))
    return family


class MeteredRecords:
    """``Records`` that also counts each logged question in ``metrics``."""

    def __init__(self, inner: Records, metrics: Metrics) -> None:
        self._inner, self._metrics = inner, metrics

    def log_question(self, entry: QuestionEntry) -> int:
        question_id = self._inner.log_question(entry)
        try:
            self._metrics.question(entry)
        except Exception:  # a metric must never cost an answer
            log.exception("could not count question %s", question_id)
        return question_id

    def claim_event(
        self,
        key: str,
        platform: str,
        *,
        holder: str = "",
        work: dict[str, Any] | None = None,
        lease_seconds: float = 30.0,
    ) -> bool:
        return self._inner.claim_event(
            key, platform, holder=holder, work=work, lease_seconds=lease_seconds
        )

    def finish_event(self, key: str, result: dict[str, Any] | None = None) -> None:
        self._inner.finish_event(key, result)

    def delivered(self, key: str) -> dict[str, Any] | None:
        return self._inner.delivered(key)

    def take_stale_events(
        self, holder: str, platforms: Sequence[str], *, lease_seconds: float = 30.0
    ) -> list[OpenEvent]:
        return self._inner.take_stale_events(holder, platforms, lease_seconds=lease_seconds)

    def forget_events(self, older_than: timedelta) -> int:
        return self._inner.forget_events(older_than)

    def attach_reply(self, question_id: int, reply_ref: str) -> None:
        self._inner.attach_reply(question_id, reply_ref)

    def record_feedback(self, question_id: int, platform: str, user_id: str, helpful: bool) -> None:
        self._inner.record_feedback(question_id, platform, user_id, helpful)

    def load_state(self, platform: str, user_id: str) -> UserState:
        return self._inner.load_state(platform, user_id)

    def save_state(self, state: UserState) -> None:
        self._inner.save_state(state)
