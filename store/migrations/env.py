"""Alembic environment: always driven by store.migrate with a live connection."""

from __future__ import annotations

from alembic import context

from store import (
    follow_models,  # noqa: F401
    idea_models,  # noqa: F401
    models,  # noqa: F401 - registers the tables on Base.metadata
)
from store.base import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
