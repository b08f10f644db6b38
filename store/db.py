"""Engines, sessions and the `Database` handle (SQLite for one box, PostgreSQL for many)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from staffroom_errors import ConfigError, DatabaseUnavailable, StaffroomError

SQLITE_BUSY_TIMEOUT_MS = 15_000


def normalize_url(url: str) -> str:
    """Rewrite `postgres://` and `postgresql://` to the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_pre_ping: bool = True,
    pool_recycle: int = 1800,
    connect_args: dict[str, Any] | None = None,
    echo: bool = False,
) -> Engine:
    """An engine for `url`; pool settings apply to PostgreSQL only."""
    try:
        parsed = make_url(normalize_url(url.strip()))
    except exc.ArgumentError as err:
        raise ConfigError(
            f"The database URL {url!r} is not a valid SQLAlchemy URL.",
            hint="Use sqlite:///path/to/staffroom.db or postgresql://user@host/dbname.",
        ) from err
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, connect_args or {}, echo)
    if backend != "postgresql":
        raise ConfigError(
            f"Unsupported database {backend!r}.", hint="Staffroom runs on SQLite or PostgreSQL."
        )
    return sa.create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pool_pre_ping,
        pool_recycle=pool_recycle,
        connect_args={"connect_timeout": 10, **(connect_args or {})},
        echo=echo,
    )


def _sqlite_engine(parsed: sa.URL, connect_args: dict[str, Any], echo: bool) -> Engine:
    memory = parsed.database in (None, "", ":memory:")
    if not memory:
        Path(parsed.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
    args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, **connect_args}
    kwargs: dict[str, Any] = {"connect_args": args, "echo": echo}
    if memory:
        # One shared connection, or every session would see its own empty database.
        kwargs["poolclass"] = StaticPool
    engine = sa.create_engine(parsed, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front (waiting on busy_timeout), so a
        # read-then-write transaction can never fail half-way with SQLITE_BUSY.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose loaded objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def _unreachable() -> DatabaseUnavailable:
    return DatabaseUnavailable(
        "Staffroom could not reach its database (or it was too busy to answer).",
        hint="Please try again in a minute; if it keeps happening, tell your Staffroom admin.",
    )


class Database:
    """An engine and its sessionmaker; `session()` is one unit of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker = make_sessionmaker(engine)

    @classmethod
    def from_url(cls, url: str, **pool: Any) -> Database:
        return cls(make_engine(url, **pool))

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Commit on success, roll back on any error; connection failures become StoreError."""
        s = self.sessionmaker()
        try:
            yield s
            s.commit()
        except StaffroomError:
            s.rollback()
            raise
        except (exc.OperationalError, exc.InterfaceError) as err:
            _safe_rollback(s)
            raise _unreachable() from err
        except BaseException:
            _safe_rollback(s)
            raise
        finally:
            s.close()

    def check(self) -> None:
        """Raise StoreError unless the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except (exc.OperationalError, exc.InterfaceError) as err:
            raise _unreachable() from err

    def dispose(self) -> None:
        self.engine.dispose()


def _safe_rollback(s: Session) -> None:
    try:
        s.rollback()
    except exc.SQLAlchemyError:
        pass  # the connection is already gone; close() will discard it
