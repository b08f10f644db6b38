"""Run the packaged Alembic migrations programmatically (no alembic.ini at run time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import exc
from sqlalchemy.engine import Connection, Engine

from staffroom_errors import StoreError
from store.db import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def _connection(target: str | Engine) -> Iterator[Connection]:
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with engine.begin() as conn:
            yield conn
    except (exc.OperationalError, exc.InterfaceError) as err:
        raise StoreError(
            "Staffroom could not reach its database to migrate it.",
            hint="Check STAFFROOM_DATABASE_URL / DATABASE_URL and that the server is up.",
        ) from err
    finally:
        if isinstance(target, str):
            engine.dispose()


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Migrate the database at `target` (a URL or an engine) up to `revision`."""
    with _connection(target) as conn:
        command.upgrade(_config(conn), revision)


def downgrade(target: str | Engine, revision: str) -> None:
    """Migrate the database at `target` down to `revision` ("base" empties it)."""
    with _connection(target) as conn:
        command.downgrade(_config(conn), revision)


def current(target: str | Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with _connection(target) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    """The newest revision shipped with this package."""
    rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert rev is not None
    return rev
