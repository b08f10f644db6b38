"""The database-backed daily token budget: shared by replicas, per UTC day, migration 0002."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from bot.budget import DatabaseTokenBudget
from store import Database, add_llm_usage, llm_tokens_on
from store.migrate import current, downgrade, upgrade

NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_spending_is_shared_by_every_process_on_the_database(db: Database) -> None:
    clock = Clock(NOON)
    first = DatabaseTokenBudget(db, 1000, clock=clock)
    replica = Database.from_url(db.url)  # another process: its own engine, same database
    try:
        second = DatabaseTokenBudget(replica, 1000, clock=clock)
        assert first.remaining() == 1000
        first.spend(300)
        second.spend(500)
        assert first.remaining() == second.remaining() == 200
        second.spend(400)
        assert first.remaining() == 0  # never negative
        with db.session() as s:
            assert llm_tokens_on(s, NOON.date()) == 1200
    finally:
        replica.dispose()


def test_a_new_utc_day_starts_a_fresh_allowance(db: Database) -> None:
    clock = Clock(datetime(2026, 3, 9, 23, 59, tzinfo=UTC))
    budget = DatabaseTokenBudget(db, 100, clock=clock)
    budget.spend(100)
    assert budget.remaining() == 0
    clock.now += timedelta(minutes=2)  # past midnight UTC, whatever the district's zone
    assert budget.remaining() == 100


def test_unlimited_still_records_usage_and_ignores_nothing_spent(sqlite_db: Database) -> None:
    budget = DatabaseTokenBudget(sqlite_db, 0, clock=Clock(NOON))
    budget.spend(0)
    budget.spend(-5)
    assert budget.remaining() is None
    budget.spend(42)
    with sqlite_db.session() as s:
        assert llm_tokens_on(s, NOON.date()) == 42


def test_concurrent_spends_all_count(db: Database) -> None:
    budget = DatabaseTokenBudget(db, 0, clock=Clock(NOON))
    threads = [threading.Thread(target=budget.spend, args=(10,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.session() as s:
        assert llm_tokens_on(s, NOON.date()) == 80


def test_an_unreachable_database_counts_as_spent(tmp_path, caplog) -> None:
    broken = Database.from_url(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    budget = DatabaseTokenBudget(broken, 1000)
    assert budget.remaining() == 0
    budget.spend(10)  # logged, not raised: the answer already reached the teacher
    assert "could not record 10 LLM tokens" in caplog.text
    broken.dispose()


def test_migration_0002_goes_down_and_up(db_url: str) -> None:
    upgrade(db_url, "0002")
    assert current(db_url) == "0002"
    db = Database.from_url(db_url)
    try:
        with db.session() as s:
            add_llm_usage(s, date(2026, 3, 9), 7)
        downgrade(db_url, "0001")
        assert "llm_usage" not in sa.inspect(db.engine).get_table_names()
        upgrade(db_url)
        with db.session() as s:
            assert llm_tokens_on(s, date(2026, 3, 9)) == 0
            add_llm_usage(s, date(2026, 3, 9), 7)
            add_llm_usage(s, date(2026, 3, 9), 8)
            assert llm_tokens_on(s, date(2026, 3, 9)) == 15
    finally:
        db.dispose()
