"""Migrations go up, down and up again on both backends, and match the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from store import Base, Database, claim_event
from store.migrate import current, downgrade, head, upgrade

TABLES = {
    "conversation_states", "processed_events", "questions", "feedback", "content_gaps",
    "conversation_refs", "ideas", "pitch_drafts", "comments", "votes", "design_questions",
    "idea_events", "reindex_runs", "locks", "llm_usage",
    "insight_clusters", "insight_questions", "insight_answers", "insight_sign_ins",
    "insight_page_views", "privacy_log", "insight_sends",
    "follow_people", "follow_tries", "follow_messages", "follow_reflections", "idea_followers",
    "pilot_members",
}  # fmt: skip


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_up_down_up(db_url: str) -> None:
    assert current(db_url) is None
    upgrade(db_url)
    assert current(db_url) == head()
    assert _tables(db_url) == TABLES
    downgrade(db_url, "base")
    assert current(db_url) is None
    assert _tables(db_url) == set()
    upgrade(db_url)
    assert _tables(db_url) == TABLES
    db = Database.from_url(db_url)
    with db.session() as s:
        assert claim_event(s, "slack:Ev1", "slack")
    db.dispose()


def test_upgrade_twice_is_a_no_op(db: Database) -> None:
    upgrade(db.engine)
    assert current(db.engine) == head()


def test_migrations_match_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
