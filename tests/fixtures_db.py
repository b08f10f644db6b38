"""Database fixtures: every DB test runs on SQLite and on PostgreSQL.

`db_url` is a plain SQLAlchemy URL, so code that builds its own engine from it (a second
`Database`, `store.migrate.upgrade(url)`, the bot) lands in the same database. PostgreSQL runs
in a fresh schema per test (named in the URL's search_path), so parallel runs never collide.
Set STAFFROOM_TEST_PG_URL to use another server; with CI set, an unreachable server fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from store import Database
from store.migrate import upgrade

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_base_url() -> str:
    return os.environ.get("STAFFROOM_TEST_PG_URL", DEFAULT_PG_URL)


@cache
def _pg_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers (checked once per run)."""
    engine = sa.create_engine(_pg_base_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as err:  # noqa: BLE001 - any failure means "no server to test on"
        return f"PostgreSQL at {_pg_base_url()} is unreachable: {type(err).__name__}: {err}"
    finally:
        engine.dispose()
    return None


def _admin(sql: str) -> None:
    engine = sa.create_engine(_pg_base_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET lock_timeout = '20s'")
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a brand-new schema, dropped afterwards."""
    reason = _pg_unreachable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    _admin(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in _pg_base_url() else "?"
    try:
        yield f"{_pg_base_url()}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        _admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{(tmp_path / 'staffroom.db').as_posix()}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database URL, once for SQLite and once for PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


def _migrated(url: str) -> Iterator[Database]:
    db = Database.from_url(url)
    upgrade(db.engine)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated Database on each backend."""
    yield from _migrated(db_url)


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    """A migrated SQLite Database only, for tests that do not depend on the backend."""
    yield from _migrated(sqlite_url)
