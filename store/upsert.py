"""Dialect-aware INSERT ... ON CONFLICT, the one atomic primitive both backends share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Session

from staffroom_errors import ConfigError


def _insert(s: Session, model: type[Any]) -> Any:
    name = s.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise ConfigError(f"Unsupported database {name!r}.", hint="Use SQLite or PostgreSQL.")


def insert_ignore(
    s: Session, model: type[Any], values: Mapping[str, Any], keys: Sequence[str]
) -> bool:
    """Insert a row unless one with the same `keys` exists; True when this call inserted it."""
    # RETURNING, not rowcount: drivers disagree on rowcount for a skipped conflict.
    table = model.__table__
    stmt = (
        _insert(s, model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(*(table.c[k] for k in keys))
    )
    return s.execute(stmt).first() is not None


def upsert(
    s: Session,
    model: type[Any],
    values: Mapping[str, Any],
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert a row, or update the `update` columns of the existing row with the same `keys`."""
    stmt = _insert(s, model).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}
    )
    s.execute(stmt)


def affected(result: Result[Any]) -> int:
    """Rows changed by an UPDATE or DELETE (reliable on both backends, unlike INSERT)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)
