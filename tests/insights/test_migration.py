"""Revision 0004 goes down to 0003 (leaving the older tables alone) and up again."""

from __future__ import annotations

import sqlalchemy as sa

from store.migrate import current, downgrade, upgrade

INSIGHT_TABLES = {
    "insight_clusters",
    "insight_questions",
    "insight_answers",
    "insight_sign_ins",
    "insight_page_views",
    "privacy_log",
    "insight_sends",
}


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_0004_down_and_up(db_url: str) -> None:
    upgrade(db_url)  # to the newest revision: 0004 or a later one
    assert current(db_url) >= "0004" and INSIGHT_TABLES <= _tables(db_url)
    downgrade(db_url, "0003")
    assert current(db_url) == "0003"
    tables = _tables(db_url)
    assert not (INSIGHT_TABLES & tables) and {"questions", "ideas", "processed_events"} <= tables
    upgrade(db_url)
    assert current(db_url) >= "0004" and INSIGHT_TABLES <= _tables(db_url)
