"""Engines, URLs and the session unit of work."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from staffroom_errors import ConfigError, StoreError
from store import ConversationState, Database, get_state, make_engine, normalize_url, save_state
from store.migrate import upgrade


@pytest.mark.parametrize(
    "url",
    [
        "postgres://u:p@h:5432/db",
        "postgresql://u:p@h:5432/db",
        "postgresql+psycopg://u:p@h:5432/db",
    ],
)
def test_postgres_urls_use_psycopg3(url: str) -> None:
    assert normalize_url(url) == "postgresql+psycopg://u:p@h:5432/db"
    engine = make_engine(url, pool_size=3, max_overflow=1)
    assert engine.dialect.driver == "psycopg"
    assert engine.pool.size() == 3  # type: ignore[attr-defined]


def test_sqlite_pragmas_and_parent_dir(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/deep/er/staffroom.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    assert (tmp_path / "deep" / "er" / "staffroom.db").exists()
    engine.dispose()


def test_in_memory_sqlite_is_one_database() -> None:
    db = Database.from_url("sqlite://")
    upgrade(db.engine)
    with db.session() as s:
        save_state(s, "slack", "U1", flow="pitch", step="title")
    with db.session() as s:
        state = get_state(s, "slack", "U1")
        assert state is not None and state.flow == "pitch"


@pytest.mark.parametrize("url", ["not a url", "mysql://u@h/db"])
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        make_engine(url)


def test_unreachable_server_is_a_store_error() -> None:
    # Port 1 on localhost refuses at once: no waiting on a timeout.
    db = Database.from_url("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="could not reach"):
        db.check()
    with pytest.raises(StoreError), db.session() as s:
        s.execute(sa.text("SELECT 1"))


def test_session_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        save_state(s, "slack", "U1", flow="pitch")
        raise RuntimeError("boom")
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ConversationState)) == 0


def test_timestamps_come_back_as_utc(db: Database) -> None:
    with db.session() as s:
        save_state(s, "slack", "U1", flow=None)
    with db.session() as s:
        state = get_state(s, "slack", "U1")
        assert state is not None and state.updated_at.utcoffset() is not None
        assert state.updated_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
