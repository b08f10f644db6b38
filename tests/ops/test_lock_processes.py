"""The re-index lock across processes on PostgreSQL: in every round exactly one of two wins."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

import pytest

from store.migrate import upgrade

ROUNDS = 8


def _contend(url: str, name: str, start: Any, done: Any, results: Any) -> None:
    """Claim in lock-step with the other process; the winner releases before the next round."""
    from bot.reindex import job
    from store import Database

    database = Database.from_url(url)
    try:
        for round_ in range(ROUNDS):
            start.wait(timeout=30)
            held = job.claim(database, name, f"{name} (cli:{name})", "cli")
            results.put((round_, name, isinstance(held, job.Claim)))
            done.wait(timeout=30)
            if isinstance(held, job.Claim):
                job.abandon(database, held, "test round over")
            start.wait(timeout=30)  # both are past the release before the next claim
    finally:
        database.dispose()


@pytest.mark.postgres
def test_exactly_one_of_two_processes_takes_the_reindex_lock(pg_url: str) -> None:
    upgrade(pg_url)
    ctx = mp.get_context("spawn")
    start, done = ctx.Barrier(2), ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_contend, args=(pg_url, name, start, done, results))
        for name in ("replica-a", "replica-b")
    ]
    for p in procs:
        p.start()
    try:
        outcomes = [results.get(timeout=60) for _ in range(2 * ROUNDS)]
    finally:
        for p in procs:
            p.join(timeout=30)
    assert all(p.exitcode == 0 for p in procs)
    winners = {r: [name for rr, name, won in outcomes if rr == r and won] for r in range(ROUNDS)}
    assert all(len(w) == 1 for w in winners.values()), winners
